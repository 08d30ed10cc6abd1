"""gunicorn settings of the web server (`make run`, docker-compose, the fault tests).

Command-line flags (--bind, --workers) override these. The request caps make hostile input a
4xx before Django sees it (issue 7, Hostile input); the timeouts bound how long any request
may hang while PostgreSQL or Redis is away. Workers: --workers, else WEB_CONCURRENCY (gunicorn
reads it itself; docker-compose sets it).
"""

import os
import shutil

import gunicorn.http.message

# Request line (method + URL + version): 64 KiB. The API answers its own limits in its
# `{"type","message"}` shape (a list `filter` is at most 1 024 characters, which a client may
# percent-encode to 9 KiB), so gunicorn's HTML 414 must only meet lines no API call could be.
# gunicorn clamps this setting to a module constant (8 190 bytes; 0 would mean no bound at all,
# and its Python parser would buffer a line of any length), so the constant is raised with it,
# here in the master before any worker starts.
REQUEST_LINE_LIMIT = 64 * 1024
gunicorn.http.message.MAX_REQUEST_LINE = REQUEST_LINE_LIMIT
limit_request_line = REQUEST_LINE_LIMIT
# Headers: gunicorn answers 400 past these. 8 KiB per header fits any browser cookie set; 50
# headers is plenty.
limit_request_fields = 50
limit_request_field_size = 8190

# A worker stuck longer than this is killed and replaced; connect_timeout (DB_CONNECT_TIMEOUT)
# and the cache's socket timeout (CACHE_TIMEOUT) keep a healthy request far below it.
timeout = 30
graceful_timeout = 20
keepalive = 5

# Production logs (LOG_FORMAT=json, the image's default): gunicorn's own lines as JSON too.
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # The app logs each request itself (config.logging, health probes excepted).
            "gunicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


def on_starting(server) -> None:
    """Prometheus with several workers (config/metrics.py): each worker writes its values into
    PROMETHEUS_MULTIPROC_DIR; start from an empty directory so no dead process's counts stay."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker) -> None:
    """A worker's gauges die with it (its counters stay summed in, as Prometheus expects)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
