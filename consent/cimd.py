"""Fetching Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP
authorization 2025-11-25 "Client ID Metadata Documents").

A `client_id` that is an https URL with a path names a JSON document describing the client.
Fetching a URL chosen by a stranger is a server-side request forgery lever, so the fetch:
resolves the host once and refuses loopback, private, link-local and other non-global
addresses (unless `CIMD_ALLOW_PRIVATE_ADDRESSES`, for tests), then connects to that very
address (no second DNS answer can swap it), with TLS verified against the host name; follows
no redirects; and reads at most `MAX_DOCUMENT_BYTES`.

The fetch happens before login, for anyone, inside a web worker, so it is also bounded as a
denial-of-service lever (issue 15): one overall deadline (`CIMD_FETCH_DEADLINE`, DNS included);
at most `CIMD_FETCHES_IN_FLIGHT` fetches at once server-wide and
`CIMD_FETCHES_IN_FLIGHT_PER_IP` per caller, counted as slots in the shared cache (more answer
`temporarily_unavailable` at once, so the other workers stay free for everyone else); and
failures are remembered like successes, for what the response's cache headers say (RFC 9111
§4.2.1) or `FAILURE_CACHE_SECONDS`, never less than `FAILURE_CACHE_FLOOR` nor more than
`FAILURE_CACHE_CEILING`, so asking again for an unreachable document costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import math
import re
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

# A failed fetch is remembered this long when its response said nothing (or there was none),
# and within these bounds when it did.
FAILURE_CACHE_SECONDS = 60
FAILURE_CACHE_FLOOR = 10
FAILURE_CACHE_CEILING = 3600
# A fetch slot outlives the deadline by this much, so a worker killed mid-fetch frees it soon.
SLOT_MARGIN_SECONDS = 5
CACHE_PREFIX = "cimd"
MAX_DOCUMENT_BYTES = 64 * 1024
# A client's metadata is a flat object of strings and lists; nothing needs more depth.
MAX_NESTING_DEPTH = 16
# Cache lifetime when the response says nothing, and the ceiling for what it may say.
DEFAULT_CACHE_SECONDS = 300
MAX_CACHE_SECONDS = 24 * 3600


class MetadataDocumentError(Exception):
    """The document could not be fetched or is not acceptable; the message says why.
    `max_age`: what the response's cache headers allow, when there was a response."""

    def __init__(self, message: str, *, max_age: int | None = None) -> None:
        super().__init__(message)
        self.max_age = max_age


class MetadataFetchBusy(MetadataDocumentError):
    """Too many document fetches in flight (server-wide or from this caller): try again in
    `retry_after` seconds. Nothing was fetched or remembered."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class MetadataDocument:
    url: str
    data: dict
    max_age: int


def is_metadata_document_url(client_id: str) -> bool:
    """An https URL with a path, no fragment, no credentials, no dot segments (CIMD §3)."""
    if not isinstance(client_id, str) or len(client_id) > 1024 or not client_id.isprintable():
        return False
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    segments = parts.path.split("/")
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and parts.path not in ("", "/")
        and "#" not in client_id
        and parts.username is None
        and parts.password is None
        and "." not in segments
        and ".." not in segments
    )


def metadata_document_fetch_bounded(url: str, *, requester: str) -> MetadataDocument:
    """`metadata_document_fetch` behind the denial-of-service bounds of this module: a
    remembered failure is raised again without fetching; otherwise a fetch slot is taken
    (MetadataFetchBusy when none is free), and a failure is remembered."""
    remembered = _failure_recall(url)
    if remembered is not None:
        raise MetadataDocumentError(remembered)
    with _fetch_slot(requester):
        try:
            return metadata_document_fetch(url)
        except MetadataDocumentError as error:
            failure_remember(url, str(error), max_age=error.max_age)
            raise


def failure_remember(url: str, message: str, *, max_age: int | None) -> None:
    """Remember that the document at `url` is unusable, for `max_age` seconds (from its cache
    headers) or FAILURE_CACHE_SECONDS, within the floor and the ceiling."""
    lifetime = FAILURE_CACHE_SECONDS if max_age is None else max_age
    lifetime = max(FAILURE_CACHE_FLOOR, min(lifetime, FAILURE_CACHE_CEILING))
    with contextlib.suppress(Exception):  # an unreachable cache only costs the memory
        cache.set(_failure_key(url), message[:500], timeout=lifetime)


def _failure_recall(url: str) -> str | None:
    try:
        return cache.get(_failure_key(url))
    except Exception:
        return None


def _failure_key(url: str) -> str:
    return f"{CACHE_PREFIX}:failed:{hashlib.sha256(url.encode()).hexdigest()}"


@contextlib.contextmanager
def _fetch_slot(requester: str) -> Iterator[None]:
    """Hold one of the server-wide slots and one of the caller's for the length of a fetch.

    A slot is a cache key taken with `add` (atomic on Redis and on the database cache) and
    expiring shortly after the deadline, so a worker that dies holding one cannot leak it.
    Fails open when the cache is unreachable (the deadline still bounds each fetch)."""
    deadline = float(settings.CIMD_FETCH_DEADLINE)
    timeout = math.ceil(deadline) + SLOT_MARGIN_SECONDS
    pools = [
        (f"{CACHE_PREFIX}:slot:all", settings.CIMD_FETCHES_IN_FLIGHT),
        (f"{CACHE_PREFIX}:slot:ip:{requester}", settings.CIMD_FETCHES_IN_FLIGHT_PER_IP),
    ]
    held: list[str] = []
    try:
        for prefix, size in pools:
            slot = _slot_take(prefix, size, timeout=timeout)
            if slot is None:
                raise MetadataFetchBusy(
                    "too many client metadata documents are being fetched; try again shortly",
                    retry_after=math.ceil(deadline),
                )
            if slot:
                held.append(slot)
        yield
    finally:
        for slot in held:
            with contextlib.suppress(Exception):
                cache.delete(slot)


def _slot_take(prefix: str, size: int, *, timeout: int) -> str | None:
    """The key of a free slot now held, "" when the cache is down (fail open), None if all
    `size` slots are taken."""
    try:
        for index in range(max(size, 0)):
            key = f"{prefix}:{index}"
            if cache.add(key, 1, timeout=timeout):
                return key
    except Exception:
        return ""
    return None


def metadata_document_fetch(url: str) -> MetadataDocument:
    """GET the document at `url` under the rules above, within CIMD_FETCH_DEADLINE seconds
    overall; raise MetadataDocumentError."""
    if not is_metadata_document_url(url):
        raise MetadataDocumentError("client_id is not an https URL with a path")
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 443
    deadline = time.monotonic() + float(settings.CIMD_FETCH_DEADLINE)
    address = _address_resolve(host, port, deadline=deadline)
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    pinned_url = urlunsplit(("https", netloc, parts.path, parts.query, ""))
    remaining = max(0.05, deadline - time.monotonic())
    try:
        with (
            httpx.Client(
                verify=_tls_verification(),
                timeout=remaining,
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream(
                "GET",
                pinned_url,
                headers={"Host": parts.netloc, "Accept": "application/json"},
                extensions={"sni_hostname": host},
            ) as response,
        ):
            if response.status_code != 200:
                raise MetadataDocumentError(
                    f"the client metadata document answered HTTP {response.status_code}",
                    max_age=_cache_lifetime(response.headers, default=None),
                )
            body = _body_read(response, deadline)
            max_age = _cache_lifetime(response.headers)
    except httpx.HTTPError as error:
        raise MetadataDocumentError(
            f"the client metadata document could not be fetched ({type(error).__name__})"
        ) from None
    if _nesting_depth(body) > MAX_NESTING_DEPTH:
        raise MetadataDocumentError("the client metadata document is nested too deeply")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MetadataDocumentError("the client metadata document is not JSON") from None
    if not isinstance(data, dict):
        raise MetadataDocumentError("the client metadata document is not a JSON object")
    return MetadataDocument(url=url, data=data, max_age=max_age)


_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cimd-dns")


def _address_resolve(host: str, port: int, *, deadline: float) -> str:
    """The first address of `host`; every address must be public unless private ones are
    allowed (a host with one private answer could be steered to it). getaddrinfo has no
    timeout of its own, so it runs on a helper thread and is abandoned at the deadline."""
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(0.05, deadline - time.monotonic()))
    except FutureTimeout:
        raise MetadataDocumentError("the client metadata document host took too long") from None
    except (OSError, UnicodeError):
        raise MetadataDocumentError("the client metadata document host does not resolve") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise MetadataDocumentError("the client metadata document host does not resolve")
    if not settings.CIMD_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not address_is_public(address):
                raise MetadataDocumentError(
                    "the client metadata document host resolves to a non-public address"
                )
    return addresses[0].split("%", 1)[0]


# IPv6 ranges that carry an IPv4 address in their low 32 bits (NAT64 well-known prefix,
# RFC 6052 §2.1) or that are translation space whose target cannot be judged from here
# (local-use NAT64, RFC 8215; Teredo, RFC 4380, obfuscates its client address).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NON_ROUTABLE_V6 = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("2001::/32"),
)


def address_is_public(address: str) -> bool:
    """True only for a globally routable unicast address (RFC 6890 special-purpose registries).

    An IPv6 address that embeds an IPv4 one is judged by the IPv4 address: IPv4-mapped
    (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, RFC 4291 §2.5.5.1), NAT64 `64:ff9b::/96`
    (RFC 6052) and 6to4 `2002::/16` (RFC 3056), since a gateway would forward
    `[64:ff9b::a9fe:a9fe]` to 169.254.169.254. Python's `is_global` calls those global.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NON_ROUTABLE_V6):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    value = int(ip)
    if ip in _NAT64 or (value >> 32 == 0 and value > 1):
        # NAT64, or IPv4-compatible (::/96 apart from :: and ::1).
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _nesting_depth(body: bytes) -> int:
    """The deepest array/object nesting of a JSON text, strings skipped: checked before
    parsing, because the parser recurses once per level and 30 000 levels exhaust the stack."""
    depth = deepest = 0
    for byte in _JSON_STRING.sub(b"", body):
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _tls_verification() -> ssl.SSLContext | bool:
    bundle = settings.CIMD_CA_BUNDLE
    return ssl.create_default_context(cafile=bundle) if bundle else True


def _body_read(response: httpx.Response, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise MetadataDocumentError("the client metadata document is too large")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise MetadataDocumentError("the client metadata document is too large")
        if time.monotonic() > deadline:
            raise MetadataDocumentError("the client metadata document took too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _cache_lifetime(
    headers: httpx.Headers, *, default: int | None = DEFAULT_CACHE_SECONDS
) -> int | None:
    """Seconds the document may be reused, per Cache-Control, else Expires (RFC 9111 §4.2.1);
    `default` when the response says neither."""
    directives = {}
    for item in headers.get("cache-control", "").split(","):
        name, _, value = item.strip().partition("=")
        directives[name.lower()] = value.strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            return min(int(directives[name]), MAX_CACHE_SECONDS)
    if expires := headers.get("expires"):
        try:
            delta = (parsedate_to_datetime(expires) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return 0
        return max(0, min(int(delta), MAX_CACHE_SECONDS))
    return default
