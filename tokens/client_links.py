"""What an OAuth client may show us: the one rule for its links and its logo.

A client registers `client_uri`, `tos_uri`, `policy_uri` and `logo_uri` (RFC 7591 §2); the
consent screen and the token pages put them in `<a href>` and `<img src>`. Nothing a client
registers may run in our origin (RFC 9700 §4.16's spirit; RFC 7591 §5 asks servers to check
these URIs): links are plain http(s) URLs; a logo is one, or a base64 `data:` URI of a raster
image. SVG is refused: it is a document that can carry script and external references, and a
browser shown it outside an `<img>` (opened in a tab, saved) runs them.

Registration (consent.forms: dynamic registration, metadata documents and the admin) refuses
what `*_problem` reports; the pages show what `safe_*` lets through, so a row stored before
the rule tightened still never reaches a page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from accounts.text import has_unsafe_characters

LOGO_MAX_LENGTH = 32768
RASTER_IMAGE_TYPES = ("png", "gif", "jpeg", "webp", "avif")
RASTER_DATA_URI = re.compile(
    r"data:image/(?:" + "|".join(RASTER_IMAGE_TYPES) + r");base64,[A-Za-z0-9+/]*={0,2}",
    re.IGNORECASE,
)


def web_url_problem(uri: str, *, field_name: str, max_length: int = 1024) -> str | None:
    """Why `uri` is not a plain http(s) URL (never `javascript:` or similar), else None."""
    if len(uri) > max_length:
        return f"{field_name} must be at most {max_length} characters"
    if has_unsafe_characters(uri) or any(ch.isspace() for ch in uri):
        return f"{field_name} must be a valid URL"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"{field_name} must be a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{field_name} must be an http or https URL"
    if parts.username is not None or parts.password is not None:
        return f"{field_name} must not contain user information"
    return None


def logo_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a client's logo: an http(s) URL or a base64 `data:` URI of a
    raster image (RASTER_IMAGE_TYPES) only."""
    if len(uri) > LOGO_MAX_LENGTH:
        return f"logo_uri must be at most {LOGO_MAX_LENGTH} characters"
    if uri[:5].lower() == "data:":
        if RASTER_DATA_URI.fullmatch(uri):
            return None
        return "logo_uri must be a base64 data URI of a PNG, GIF, JPEG, WebP or AVIF image"
    return web_url_problem(uri, field_name="logo_uri", max_length=LOGO_MAX_LENGTH)


def safe_image_src(uri: str) -> str:
    """`uri` if it may go in `<img src>` (logo_uri_problem), else the empty string."""
    return uri if uri and logo_uri_problem(uri) is None else ""


def safe_link(uri: str) -> str:
    """`uri` if it may go in `<a href>` (an http(s) URL), else the empty string."""
    return uri if uri and web_url_problem(uri, field_name="link") is None else ""
