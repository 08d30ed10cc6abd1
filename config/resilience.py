"""Failing infrastructure and oversized requests answer cleanly (issue 7, Faults).

`ResilienceMiddleware` sits outermost. A database outage (`OperationalError`,
`InterfaceError`: PostgreSQL restarting, refusing connections, a connection cut mid-query)
becomes a 503 with `Retry-After` (RFC 9110 §15.6.4) in the caller's dialect (JSON on the API
and the OAuth endpoints, a short page elsewhere), never a 500 with a traceback. Nothing here
touches the database, so the answer itself cannot fail. Service resumes by itself: with
`CONN_HEALTH_CHECKS` each request checks its persistent connection before use and reconnects,
and `connect_timeout` bounds a connection attempt.

A body declared larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` is refused with 413 before it is
read; header and request-line sizes are capped by gunicorn (`config/gunicorn.conf.py`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
_UNAVAILABLE_FLAG = "_resilience_database_unavailable"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; retry shortly"
TOO_LARGE_MESSAGE = "The request body is too large"
UNPARSABLE_MESSAGE = "The request body could not be parsed"
UNPARSABLE_BODY = (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, UnreadablePostError)


def _dialect(path: str) -> str:
    """ "api" for the JSON API, "oauth" for the OAuth endpoints a program calls, else "html"
    (the authorization endpoint is a page a person sees)."""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/.well-known/") or (
        path.startswith("/oauth/") and not path.startswith("/oauth/authorize")
    ):
        return "oauth"
    return "html"


def _page(title: str, text: str, *, status: int) -> HttpResponse:
    # A fixed page: no template, no context processor, no query, nothing from the request.
    response = HttpResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1><p>{text}</p></body></html>",
        status=status,
        content_type="text/html; charset=utf-8",
    )
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    response["Referrer-Policy"] = "no-referrer"
    return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: `{"type","message"}` on the API, RFC 6749 §5.2-style JSON
    (`temporarily_unavailable`) on the OAuth endpoints, a short page elsewhere."""
    dialect = _dialect(request.path)
    if dialect == "api":
        response: HttpResponse = JsonResponse(
            {"type": "ServiceUnavailable", "message": UNAVAILABLE_MESSAGE}, status=503
        )
    elif dialect == "oauth":
        response = JsonResponse(
            {"error": "temporarily_unavailable", "error_description": UNAVAILABLE_MESSAGE},
            status=503,
        )
    else:
        response = _page(
            "Temporarily unavailable",
            "The service is temporarily unavailable. Try again in a few seconds.",
            status=503,
        )
    response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def too_large_response(request: HttpRequest) -> HttpResponse:
    """413 (RFC 9110 §15.5.14) in the caller's dialect."""
    dialect = _dialect(request.path)
    if dialect == "api":
        response: HttpResponse = JsonResponse(
            {"type": "PayloadTooLarge", "message": TOO_LARGE_MESSAGE}, status=413
        )
    elif dialect == "oauth":
        response = JsonResponse(
            {"error": "invalid_request", "error_description": TOO_LARGE_MESSAGE}, status=413
        )
    else:
        response = _page("Request too large", "The request is too large.", status=413)
    response["Cache-Control"] = "no-store"
    return response


def unparsable_response(request: HttpRequest) -> HttpResponse:
    """400 for a body Django cannot parse, as the API or RFC 6749 §5.2 says."""
    if _dialect(request.path) == "api":
        response: HttpResponse = JsonResponse(
            {"type": "Validation", "message": UNPARSABLE_MESSAGE}, status=400
        )
    else:
        response = JsonResponse(
            {"error": "invalid_request", "error_description": UNPARSABLE_MESSAGE}, status=400
        )
    response["Cache-Control"] = "no-store"
    return response


def _declared_too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and declared > limit


def _mark_database_error(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Django turned an exception raised outside the view (a middleware saving the session,
    say) into a 500; note when it was the database, so the middleware can answer 503."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_ERRORS):
        setattr(request, _UNAVAILABLE_FLAG, True)


got_request_exception.connect(_mark_database_error, dispatch_uid="config.resilience")


class ResilienceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _declared_too_large(request):
            return too_large_response(request)
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _UNAVAILABLE_FLAG, False):
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        """Exceptions from the view: the database going away is a 503, a body over the limit
        (one that lied about its length) a 413, an unparsable body a 400."""
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning(
                "Database unavailable, answering 503 to %s %s (%s: %s)",
                request.method,
                request.path,
                type(exception).__name__,
                str(exception).strip().splitlines()[0] if str(exception).strip() else "",
            )
            return unavailable_response(request)
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request)
        if isinstance(exception, UNPARSABLE_BODY) and _dialect(request.path) != "html":
            # A multipart body without boundary, too many fields: the endpoint's own 400
            # (Django's default would be an HTML page and a logged traceback).
            return unparsable_response(request)
        return None
