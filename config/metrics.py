"""Prometheus metrics at /metrics (prometheus_client, text exposition format).

What is counted, and where:
- `http_request_duration_seconds{method,route}` and `http_requests_total{method,route,status}`:
  every request but the health probes (config.logging.RequestLogMiddleware). `route` is the
  URL pattern, never the path, so ids cannot blow up the series count.
- `oauth_tokens_issued_total{grant_type}`, `oauth_tokens_refreshed_total`,
  `oauth_tokens_revoked_total{reason}`: from the audit trail's one writer
  (tokens.services.events.token_event_record), so every path that issues, rotates or revokes
  is counted, whatever endpoint or page it came through.
- `oauth_tokens_refused_total{endpoint,reason}`: token endpoint refusals by their RFC 6749 §5.2
  error code (consent.oauth), and bearer tokens the API refused (401 `invalid_token`).
- `rate_limit_refusals_total{route}`: every 429 a rate limit answered (config/ratelimit.py).

Not public: `/metrics` answers 404 unless `METRICS_TOKEN` is set (then `Authorization: Bearer
<token>` is required) or the caller's address is in `METRICS_ALLOWED_NETWORKS`. The address is
REMOTE_ADDR: behind a reverse proxy on the same host every client has the proxy's address, so
prefer the token there.

With several gunicorn workers each is a process with its own counters; set
`PROMETHEUS_MULTIPROC_DIR` (docker-compose does) and every worker writes its values there and
/metrics sums them (config/gunicorn.conf.py clears the directory at start and marks dead
workers).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # gunicorn's on_starting makes it; a manage.py command or a Celery worker given the same
    # environment must not fail for want of it.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from the request entering Django to the response leaving it, by URL pattern",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "http_requests", "Requests answered, by URL pattern and status", ["method", "route", "status"]
)
TOKENS_ISSUED = Counter(
    "oauth_tokens_issued", "Access tokens issued from an authorization code", ["grant_type"]
)
TOKENS_REFRESHED = Counter("oauth_tokens_refreshed", "Refresh token rotations that issued tokens")
TOKENS_REFUSED = Counter(
    "oauth_tokens_refused",
    "Token requests and bearer tokens refused, by endpoint and error",
    ["endpoint", "reason"],
)
TOKENS_REVOKED = Counter("oauth_tokens_revoked", "Grants and tokens revoked, by reason", ["reason"])
RATE_LIMITED = Counter("rate_limit_refusals", "Requests refused by a rate limit (429)", ["route"])

# Revocation reasons as the services name them (tokens.services.grants, .oauth_tokens), mapped
# to short label values; anything else counts as "other" so the label set stays bounded.
REVOKE_REASONS = {
    "deleted by user": "deleted",
    "authorization code replayed": "code_replayed",
    "rotated refresh token reused": "refresh_reused",
    "refresh token revoked by the client": "client_revoked_refresh_token",
    "access_token": "client_revoked_access_token",
    "inactive": "deactivated",
}
REFUSAL_REASONS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_token",
}


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The labelled children per (method, route, status): `labels()` costs about 5 µs a call, a
# dict lookup nothing (every request passes here). Bounded: routes are URL patterns, methods
# and statuses are fixed sets.
_children: dict[tuple[str, str, int], tuple] = {}


def request_observe(*, method: str, route: str, status: int, seconds: float, bearer: bool) -> None:
    """One request served; `bearer` says it carried `Authorization: Bearer`."""
    key = (method if method in METHODS else "other", route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUEST_SECONDS.labels(key[0], route),
            REQUESTS.labels(key[0], route, str(status)),
        )
    children[0].observe(seconds)
    children[1].inc()
    if status == 429:
        RATE_LIMITED.labels(route).inc()
    elif status == 401 and bearer and route.startswith("/api/"):
        TOKENS_REFUSED.labels("api", "invalid_token").inc()


def token_event_count(*, token_type: str, kind: str, detail: dict) -> None:
    """Count one audit event of an OAuth token (called by token_event_record)."""
    if token_type != "oauthToken":
        return
    if kind == "authorized":
        TOKENS_ISSUED.labels("authorization_code").inc()
    elif kind == "refreshed":
        TOKENS_REFRESHED.inc()
    elif kind == "deleted":
        TOKENS_REVOKED.labels(REVOKE_REASONS.get(detail.get("reason", ""), "other")).inc()
    elif kind == "revoked" and detail.get("credential") == "access_token":
        # A revoked refresh token deletes its grant, which is counted as that deletion.
        TOKENS_REVOKED.labels(REVOKE_REASONS["access_token"]).inc()
    elif kind == "status_changed" and detail.get("status") == "inactive":
        TOKENS_REVOKED.labels(REVOKE_REASONS["inactive"]).inc()


def token_refused_count(*, endpoint: str, error: str) -> None:
    TOKENS_REFUSED.labels(endpoint, error if error in REFUSAL_REASONS else "other").inc()


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def metrics_allowed(request: HttpRequest) -> bool:
    """A bearer METRICS_TOKEN (compared in constant time) or an address in the allow-list."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header[:7].lower() == "bearer ":
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def metrics_response(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = HttpResponse("Not Found\n", status=404, content_type="text/plain")
    else:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
