"""Logs an operator can search: one line per event, with the request it belongs to.

`LOG_FORMAT=json` (production, docker-compose) writes one JSON object per line with `time`
(ISO 8601, UTC, milliseconds), `level`, `logger`, `message`, `request_id` and, where the code
gave them, `client_id`, `grant_type`, `status`, `method`, `route`, `duration_ms`. `text` (the
default, `make run`) writes the same fields as a human-readable line.

Every record passes `ContextFilter` on its way out, which
- stamps the id of the request being served (a context variable set by `RequestLogMiddleware`);
- drops the traceback of an expected client error: Django attaches the exception to the
  warning it logs for a 403 or 404 raised in a view, which is noise, not a fault (a 5xx keeps
  its traceback);
- replaces anything shaped like one of our secrets (`oat_…`, `ort_…`, `oac_…`, `uat_…`,
  `aat_…`, `ocs_…`) with `[redacted]`, a last guard behind the rule that no code logs one.

The request id comes from `X-Request-ID` only when `TRUST_X_REQUEST_ID` says a proxy in front
sets it (a client could otherwise forge ids into the logs); else it is generated. Either way it
is echoed in the response's `X-Request-ID`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
access_logger = logging.getLogger("http.request")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_SECRET_SHAPE = re.compile(r"\b(?:oat|ort|oac|uat|aat|ocs)_[A-Za-z0-9_-]{8,}")
REDACTED = "[redacted]"
# Attributes of every LogRecord; anything else on a record was passed in `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Extras worth a field of their own (bounded, never secret); `request` (Django's) is not.
FIELDS = ("client_id", "grant_type", "endpoint", "outcome", "error")
FIELDS += ("status", "method", "route", "path", "duration_ms", "status_code")


def redact(text: str) -> str:
    return _SECRET_SHAPE.sub(REDACTED, text)


class ContextFilter(logging.Filter):
    """Request id, no traceback for expected 4xx, secrets redacted (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx after the middleware chain has returned: its record carries
        # the request, which carries the id.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned is not message or record.args:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring for its fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            # "+00:00" -> "Z"
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None and not callable(value):
                entry[field] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-12-02 09:41:07,123 INFO consent.oauth [3f2a…] message key=value …`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        line = super().format(record)
        extras = " ".join(
            f"{field}={getattr(record, field)}"
            for field in FIELDS
            if getattr(record, field, None) is not None and field != "status_code"
        )
        if not extras:
            return line
        head, newline, rest = line.partition("\n")
        return f"{head} {extras}{newline}{rest}"


def logging_config(*, level: str, log_format: str) -> dict:
    """Django's LOGGING: one console handler with the context filter and the chosen format."""
    if log_format not in ("text", "json"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {log_format!r}")
    if log_format == "json":
        # Python warnings become log records too, so that every line stays JSON.
        logging.captureWarnings(True)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.logging.ContextFilter"}},
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "text": {"()": "config.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's own request logger goes through the root handler once.
        "loggers": {"django": {"level": level, "propagate": True}},
    }


def _request_id(request: HttpRequest) -> str:
    if settings.TRUST_X_REQUEST_ID:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        if _REQUEST_ID_SHAPE.match(given):
            return given
    return uuid.uuid4().hex


def _route(request: HttpRequest) -> str:
    """The URL pattern that served the request: bounded, unlike the path (ids, junk)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + match.route if match.route else match.view_name or "unmatched"


class RequestLogMiddleware:
    """Request id in, `X-Request-ID` out; one `http.request` line and the latency histogram per
    request. Health probes never get here (config.health answers them first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Imported here, in the serving process: the settings and gunicorn's master import this
        # module for its formatters and must not create metric files (PROMETHEUS_MULTIPROC_DIR).
        from config import metrics

        self.get_response = get_response
        self.metrics = metrics

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.request_id = _request_id(request)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            route = _route(request)
            response[REQUEST_ID_HEADER] = request_id
            self.metrics.request_observe(
                method=request.method or "",
                route=route,
                status=response.status_code,
                seconds=elapsed,
                bearer=request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer ",
            )
            if settings.LOG_REQUESTS:
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)
