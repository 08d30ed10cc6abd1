"""Rate limits on login, token, registration and introspection (RFC 9700 §4.15 brute force,
RFC 6749 §10.10 credential guessing), counted in the shared Django cache so that every worker
and every process sees one count (Redis in production and tests, or the database cache).

Two kinds of limit:

- A ceiling on all requests per client IP and endpoint (`rate_limited`): only against floods,
  so it is generous on the token and registration endpoints, where one hosted client serves
  thousands of users from a few egress addresses.
- A limit on *failures* (`failures_throttled`): failed client authentication and invalid
  grants at the token endpoint, counted per client and address together and per client, and
  refused registrations per address. Successes are bounded by what users consent to, and the
  secrets are 256-bit, so only failures signal guessing; a client that behaves is never
  throttled because a neighbour behind the same address misbehaves.

A fixed window: the first request of a window creates its counter, every request increments
it, atomically, and the counter expires with its window. On Redis that is one MULTI/EXEC
(SET NX EX + INCR); on the database cache (DatabaseCache, PostgreSQL) the counter's row is
locked (SELECT ... FOR UPDATE) around Django's add + incr, so concurrent workers never lose an
increment; other backends use add + incr as they are (locmem counts per process only). Limits
come from `settings.RATE_LIMITS` ("<requests>/<seconds>", or "off") and are read on every
request, so a change of settings applies at once.

When the cache is unreachable the limiter fails open: requests pass, and one warning line is
logged per outage (at most one a minute per process), so Redis being down never takes login
or the token endpoint down with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

logger = logging.getLogger(__name__)

Style = Literal["oauth", "api", "html"]
View = Callable[..., HttpResponse]
KEY_PREFIX = "ratelimit"
WARNING_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Limit:
    """At most `requests` requests per `window` seconds."""

    requests: int
    window: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def limit_parse(value: str) -> Limit | None:
    """`"10/60"` -> Limit(10, 60); `"off"`, `""` or `"0/..."` -> None (no limit)."""
    text = (value or "").strip().lower()
    if text in ("", "off"):
        return None
    requests, sep, window = text.partition("/")
    if not sep or not requests.isdigit() or not window.isdigit() or int(window) < 1:
        raise ImproperlyConfigured(
            f"Rate limit {value!r} must be '<requests>/<seconds>' (e.g. '10/60') or 'off'"
        )
    return Limit(int(requests), int(window)) if int(requests) > 0 else None


def limit_for(scope: str) -> Limit | None:
    return limit_parse(settings.RATE_LIMITS.get(scope, ""))


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or, behind RATE_LIMIT_PROXY_COUNT trusted reverse
    proxies, the X-Forwarded-For entry the outermost of them appended. Anything that is not
    an IP address counts as one shared bucket, so a forged header buys nothing."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.RATE_LIMIT_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return "unknown"


class _OutageLog:
    """One warning line per cache outage (repeated at most once a minute while it lasts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_warning: float | None = None

    def failed(self, scope: str, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            if (
                self._last_warning is not None
                and now - self._last_warning < WARNING_INTERVAL_SECONDS
            ):
                return
            self._last_warning = now
        logger.warning(
            "Rate limits are not enforced (failing open): the shared cache is unreachable "
            "(%s on %s)",
            type(error).__name__,
            scope,
        )

    def recovered(self) -> None:
        if self._last_warning is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._last_warning is None:
                return
            self._last_warning = None
        logger.info("Rate limits are enforced again: the shared cache answers")

    def reset(self) -> None:
        with self._lock:
            self._last_warning = None


outage_log = _OutageLog()


def rate_limit_hit(*, scope: str, key: str, limit: Limit, now: float | None = None) -> Verdict:
    """Count one request of `key` against `scope` in the current window.

    Raises whatever the cache raises when it is unreachable; `rate_limit_check` fails open.
    """
    now = time.time() if now is None else now
    cache_key, window_start = _window_key(scope, key, limit, now)
    # The counter outlives its window by a second so that creation and increment never
    # straddle expiry.
    count = _window_count(cache_key, timeout=limit.window + 1)
    retry_after = max(1, math.ceil(window_start + limit.window - now))
    return Verdict(allowed=count <= limit.requests, retry_after=retry_after)


def _window_count(cache_key: str, *, timeout: int) -> int:
    """Increment the window's counter, creating it when absent, and return the new count."""
    client = _redis_client()
    if client is not None:
        # One round trip, atomic (MULTI/EXEC): create with expiry if absent, then increment.
        # Django's add + incr cost three round trips and two new client objects (bench W2).
        key = cache.make_and_validate_key(cache_key)
        pipeline = client.pipeline(transaction=True)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]
    backend = caches["default"]
    if isinstance(backend, DatabaseCache):
        return _database_window_count(backend, cache_key, timeout=timeout)
    return _add_incr(backend, cache_key, timeout=timeout)


def _add_incr(backend: BaseCache, cache_key: str, *, timeout: int) -> int:
    backend.add(cache_key, 0, timeout=timeout)
    try:
        return backend.incr(cache_key)
    except ValueError:
        # Evicted between add and incr: this request opens the window again.
        backend.add(cache_key, 0, timeout=timeout)
        return backend.incr(cache_key)


def _database_window_count(backend: DatabaseCache, cache_key: str, *, timeout: int) -> int:
    """Django's DatabaseCache.incr is a read then a write: two workers can both read 4 and
    both write 5. Locking the counter's row first makes the pair atomic (READ COMMITTED: the
    read after the lock sees the last committed count)."""
    alias = router.db_for_write(backend.cache_model_class)
    key = backend.make_and_validate_key(cache_key)
    table = connections[alias].ops.quote_name(backend._table)
    with transaction.atomic(using=alias):
        backend.add(cache_key, 0, timeout=timeout)
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE cache_key = %s FOR UPDATE", [key])
        return _add_incr(backend, cache_key, timeout=timeout)


def _window_peek(cache_keys: list[str]) -> list[int]:
    """The current counts of these windows (0 where none), without counting."""
    client = _redis_client()
    if client is not None:
        # The counters are Redis integers (_window_count); one MGET on the kept client
        # instead of the cache's get_many, which makes a new client for each call.
        keys = [cache.make_and_validate_key(key) for key in cache_keys]
        return [int(value or 0) for value in client.mget(keys)]
    found = cache.get_many(cache_keys)
    return [int(found.get(key) or 0) for key in cache_keys]


_redis_lock = threading.Lock()
_redis_clients: weakref.WeakKeyDictionary[RedisCache, Any] = weakref.WeakKeyDictionary()


def _redis_client() -> Any | None:
    """A redis-py client over the cache backend's own connection pool (same server, same
    timeouts), made once per backend instance (Django keeps one per thread), or None when
    the cache is not Redis. The pool reconnects after an outage by itself."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(backend)
    if client is None:
        with _redis_lock:
            pool = backend._cache._get_connection_pool(write=True)
            client = _redis_clients[backend] = backend._cache._client(connection_pool=pool)
    return client


def rate_limit_check(request: HttpRequest, *, scope: str) -> Verdict:
    """The verdict for this request; allowed when no limit is set or the cache is down."""
    limit = limit_for(scope)
    if limit is None:
        return Verdict(allowed=True, retry_after=0)
    try:
        verdict = rate_limit_hit(scope=scope, key=client_ip(request), limit=limit)
    except Exception as error:  # any cache failure fails open, by design
        outage_log.failed(scope, error)
        return Verdict(allowed=True, retry_after=0)
    outage_log.recovered()
    return verdict


def too_many_requests(*, style: Style, retry_after: int) -> HttpResponse:
    """429 (RFC 6585 §4) with Retry-After (RFC 9110 §10.2.3), in the caller's error dialect."""
    message = f"Too many requests; retry after {retry_after} seconds"
    if style == "oauth":
        # RFC 6749 §5.2 has no rate-limit code; temporarily_unavailable is the closest one.
        response: HttpResponse = JsonResponse(
            {"error": "temporarily_unavailable", "error_description": message}, status=429
        )
    elif style == "api":
        response = JsonResponse({"type": "TooManyRequests", "message": message}, status=429)
    else:
        # A plain page with no redirect and no link built from the request.
        response = HttpResponse(
            format_html(
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                "<title>Too many attempts</title></head><body><h1>Too many attempts</h1>"
                "<p>Wait {} seconds, then try again.</p>"
                '<p><a href="/accounts/login/">Back to the login page</a></p></body></html>',
                retry_after,
            ),
            status=429,
            content_type="text/html; charset=utf-8",
        )
        response["X-Frame-Options"] = "DENY"
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        response["Referrer-Policy"] = "no-referrer"
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def rate_limited(
    scope: str, *, style: Style = "oauth", methods: Collection[str] = ("POST",)
) -> Callable[[View], View]:
    """Decorate a view: requests with one of `methods` count against `scope`; over the limit
    they get a 429 and never reach the view."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                verdict = rate_limit_check(request, scope=scope)
                if not verdict.allowed:
                    return too_many_requests(style=style, retry_after=verdict.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _window_key(scope: str, key: str, limit: Limit, now: float) -> tuple[str, int]:
    window_start = int(now // limit.window) * limit.window
    return f"{KEY_PREFIX}:{scope}:{key}:{window_start}", window_start


def failures_check(
    own: list[tuple[str, str]],
    shared: list[tuple[str, str]] | None = None,
    *,
    now: float | None = None,
) -> Verdict:
    """Refused while one of this caller's own (scope, key) buckets has reached its failure
    limit in the current window, or while a `shared` bucket (say, per client from every
    address) has and this caller has failed in its own buckets too: a caller that has not
    failed is never refused because others did. Looks without counting; allowed when the
    cache is down."""
    now = time.time() if now is None else now
    own_limited = [(scope, key, limit) for scope, key in own if (limit := limit_for(scope))]
    shared_limited = [
        (scope, key, limit) for scope, key in shared or [] if (limit := limit_for(scope))
    ]
    limited = own_limited + shared_limited
    if not limited:
        return Verdict(allowed=True, retry_after=0)
    windows = [_window_key(scope, key, limit, now) for scope, key, limit in limited]
    try:
        counts = _window_peek([cache_key for cache_key, _ in windows])
    except Exception as error:  # fail open, as rate_limit_check
        outage_log.failed(limited[0][0], error)
        return Verdict(allowed=True, retry_after=0)
    # With no own limit set there is no telling who failed: the shared limit applies to all.
    has_failed_here = not own_limited or any(counts[: len(own_limited)])
    retry_after = 0
    for index, ((_, _, limit), (_, window_start), count) in enumerate(
        zip(limited, windows, counts, strict=True)
    ):
        applies = index < len(own_limited) or has_failed_here
        if applies and count >= limit.requests:
            retry_after = max(retry_after, math.ceil(window_start + limit.window - now), 1)
    return Verdict(allowed=retry_after == 0, retry_after=retry_after)


def failures_record(buckets: list[tuple[str, str]], *, now: float | None = None) -> None:
    """Count one failure in every (scope, key) bucket that has a limit."""
    now = time.time() if now is None else now
    for scope, key in buckets:
        limit = limit_for(scope)
        if limit is None:
            continue
        try:
            rate_limit_hit(scope=scope, key=key, limit=limit, now=now)
        except Exception as error:
            outage_log.failed(scope, error)
            return


Buckets = Callable[[HttpRequest], list[tuple[str, str]]]


def failures_throttled(
    own: Buckets,
    *,
    failed: Callable[[HttpResponse], bool],
    shared: Buckets | None = None,
    style: Style = "oauth",
) -> Callable[[View], View]:
    """Decorate a view: while `failures_check` refuses this request's buckets (`own(request)`
    and `shared(request)`, pairs of scope and key), answer 429 without running the view;
    otherwise run it and, when `failed(response)`, count a failure in each bucket. Successes
    are never counted."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            own_keys = own(request)
            shared_keys = shared(request) if shared else []
            verdict = failures_check(own_keys, shared_keys)
            if not verdict.allowed:
                return too_many_requests(style=style, retry_after=verdict.retry_after)
            response = view(request, *args, **kwargs)
            if failed(response):
                failures_record(own_keys + shared_keys)
            return response

        return wrapper

    return decorate


def bucket_key(*parts: str) -> str:
    """A cache-key-safe, bounded key for attacker-chosen text (a client_id may be 1 KiB of
    anything): SHA-256, hex, truncated to 128 bits."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
