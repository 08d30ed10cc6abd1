"""The one home of "is this URI the resource we serve" (RFC 8707 §2, MCP authorization §2.5.1).

A client names the protected resource it wants a token for; this server serves one, the JSON API
at `settings.API_RESOURCE_URL`. The authorization and token endpoints (consent.oauth) and the
token API (`oauth.resource` of a pending OAuth token, tokens.api) both ask `resource_served`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def resource_canonical(value: object) -> str | None:
    """`value` as an absolute URI with a lower-case scheme and host and no trailing slash
    (RFC 3986 §6.2.2 normalization, as MCP asks clients to expect), or None when it is not an
    absolute URI without a fragment (RFC 8707 §2: "MUST NOT include a fragment component")."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc or parts.fragment or "#" in value:
        return None
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def resource_served(value: object) -> str | None:
    """The resource this server serves, spelled as `settings.API_RESOURCE_URL`, when `value`
    names it (after canonicalization); None for any other resource."""
    canonical = resource_canonical(value)
    if canonical is None or canonical != resource_canonical(settings.API_RESOURCE_URL):
        return None
    return settings.API_RESOURCE_URL
