"""The issuer must come back unchanged from the MCP clients' URL parsing: the Python SDK parses
the metadata `issuer` with pydantic (lower-case host, default port dropped) and then compares it
as a string with the authorization response's `iss` (RFC 9207 §2.4). A PUBLIC_URL spelled any
other way (`https://Example.com:443/`) made every authorization fail on the client, so settings
canonicalise it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata

from config.settings import BASE_DIR, _public_url_canonical


@pytest.mark.parametrize(
    ("configured", "issuer"),
    [
        ("HTTPS://Example.COM:443/", "https://example.com"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://LOCALHOST:8000", "http://localhost:8000"),
        ("http://127.0.0.1:80/", "http://127.0.0.1"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://example.com/Tenant/", "https://example.com/Tenant"),
        (" https://example.com ", "https://example.com"),
    ],
)
def test_public_url_is_the_form_mcp_clients_parse_it_to(configured, issuer):
    canonical = _public_url_canonical(configured)
    assert canonical == issuer
    metadata = OAuthMetadata(
        issuer=canonical,
        authorization_endpoint=canonical + "/oauth/authorize",
        token_endpoint=canonical + "/oauth/token",
    )
    prm = ProtectedResourceMetadata(resource=canonical + "/api", authorization_servers=[canonical])
    # What the SDK compares: the parsed issuer, the parsed PRM server and the raw `iss`.
    assert str(metadata.issuer) == str(prm.authorization_servers[0]) == canonical


@pytest.mark.parametrize(
    "configured",
    [
        "ftp://example.com",
        "example.com",
        "https://",
        "https://x.example:port",
        "https://a.example/?q=1",
        "https://a.example/#f",
        "https://user:pw@a.example",
    ],
)
def test_a_public_url_that_cannot_be_an_issuer_is_refused(configured):
    with pytest.raises(ImproperlyConfigured):
        _public_url_canonical(configured)


def test_settings_apply_the_canonical_form_to_the_environment_value():
    env = {**os.environ, "PUBLIC_URL": "HTTPS://Consent.Example:443/", "ENV_FILE": os.devnull}
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PUBLIC_URL, settings.API_RESOURCE_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://consent.example", "https://consent.example/api"]
