"""Redirect URI rules: exact string match, except a loopback URI matches on any port
(RFC 9700 §4.1.3, RFC 8252 §7.3); `http` only on loopback; never a fragment."""

from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _loopback_without_port(uri: str) -> str | None:
    """The URI with its port removed if it is an http loopback URI, else None."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.username is not None or parts.password is not None:
        return None
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    if parts.netloc.startswith("[") and "]:" in parts.netloc:
        host = parts.netloc.split("]:", 1)[0] + "]"
    if host not in LOOPBACK_HOSTS:
        return None
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def is_loopback_redirect_uri(uri: str) -> bool:
    """An http URI on localhost, 127.0.0.1 or [::1]: the response stays on the user's machine
    (RFC 8252 §7.3)."""
    return _loopback_without_port(uri) is not None


def redirect_uri_matches(registered: list[str], requested: str) -> bool:
    """True if `requested` is one of `registered`, byte for byte, or a loopback variant on another port."""
    if requested in registered:
        return True
    requested_portless = _loopback_without_port(requested)
    if requested_portless is None:
        return False
    return any(_loopback_without_port(uri) == requested_portless for uri in registered)


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered, or None if it can."""
    if not isinstance(uri, str) or not uri or len(uri) > 1024:
        return "Redirect URIs must be non-empty strings of at most 1024 characters"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018
    except ValueError:
        return f"Invalid redirect URI: {uri}"
    if "#" in uri:
        return "Redirect URIs must not contain a fragment"
    if not parts.scheme or not parts.netloc:
        return f"Redirect URIs must be absolute URLs: {uri}"
    if parts.username is not None or parts.password is not None:
        return "Redirect URIs must not contain user information"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        if _loopback_without_port(uri) is None:
            return "HTTP redirect URIs are only allowed for localhost"
        return None
    return "Redirect URIs must use https, or http on localhost"
