"""One gunicorn configuration for every server under test: ours, the django-oauth-toolkit peer
and the bare-Django floor. The gthread worker gives keep-alive (wrk reuses its 8 connections);
two workers match the two cores this machine has. Access logs are off: they would cost the same
everywhere but add noise.

Two threads per worker, not four: a request that waits on PostgreSQL lets another thread of its
worker run, and with four threads contending for one GIL the same Python work cost about 30 %
more CPU (measured in-process: 0.72 ms per `GET /api/me` on one thread, 0.95 ms on four). The
floor never waits and runs the same on two or four; DOT and ours both gain
(docs/benchmarks.md, "The server configuration").

reuse_port: each worker listens on its own SO_REUSEPORT socket and the kernel spreads new
connections over them. With one shared socket the worker that wakes first takes them, and wrk's
eight keep-alive connections often all went to one worker, which runs on one core while it
holds the GIL: the floor measured 1 000 req/s in such a round and 2 100 in the next. bench/run.py
still checks the split of every round (`connections_per_worker`)."""

import os

bind = os.environ["BENCH_BIND"]
workers = int(os.environ.get("BENCH_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("BENCH_THREADS", "2"))
reuse_port = True
keepalive = 30
backlog = 2048
timeout = 120
accesslog = None
errorlog = "-"
loglevel = "warning"
preload_app = False
