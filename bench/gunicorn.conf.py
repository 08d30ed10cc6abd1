"""One gunicorn configuration for every server under test: ours, the django-oauth-toolkit peer
and the bare-Django floor. Threads give keep-alive (wrk reuses its 8 connections); two workers
match the two cores this machine has. Access logs are off: they would cost the same everywhere
but add noise."""

import os

bind = os.environ["BENCH_BIND"]
workers = int(os.environ.get("BENCH_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("BENCH_THREADS", "4"))
keepalive = 30
backlog = 2048
timeout = 120
accesslog = None
errorlog = "-"
loglevel = "warning"
preload_app = False
