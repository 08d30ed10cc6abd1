"""Health, readiness and metrics endpoints for the machines around the server.

- `GET /healthz`: the process serves requests (liveness). Touches nothing else, so a database
  outage never gets a live process restarted.
- `GET /readyz`: the database, the shared cache and the Celery broker answer (readiness); 503
  with the failing dependency named otherwise. Every probe has a short timeout.
- `GET /metrics`: Prometheus metrics, guarded (config.metrics).

`OperationalEndpointsMiddleware` is the outermost middleware: it answers these paths before
Django reads the Host header (probes and scrapers call `http://127.0.0.1:8000` or a container
name, which ALLOWED_HOSTS rightly refuses), before the https redirect, and before the request
log, so a probe every few seconds never fills the logs at INFO.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from kombu import Connection

from config import metrics

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2.0


def _json(body: dict, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def database_check() -> None:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # the next request reconnects instead of reusing a broken socket
        raise


def cache_check() -> None:
    cache.get("readyz:probe")


def broker_check() -> None:
    options = {"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT}
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT, transport_options=options
    ) as broker:
        broker.ensure_connection(max_retries=0)
        broker.default_channel  # noqa: B018 - opening the channel talks to the broker (PING)


CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "cache": cache_check,
    "broker": broker_check,
}


def readiness() -> tuple[bool, dict[str, str]]:
    """Each dependency's state, "ok" or the error's type; ready only when all are ok."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            results[name] = type(error).__name__
            logger.warning("Readiness check failed: %s (%s)", name, type(error).__name__)
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results


def healthz_response() -> HttpResponse:
    return _json({"status": "ok"})


def readyz_response() -> HttpResponse:
    ready, checks = readiness()
    return _json(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": lambda request: healthz_response(),
    "/readyz": lambda request: readyz_response(),
    "/metrics": metrics.metrics_response,
}


class OperationalEndpointsMiddleware:
    """Answer /healthz, /readyz and /metrics before anything else (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return endpoint(request)
