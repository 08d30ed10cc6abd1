"""Issue 15 §2, rule R3 (RFC 9700 §4.11.2, OAuth 2.1 §7.13.2, MCP "Open Redirection"): our
domain must not bounce a browser to a URI that anyone registered. An error found before the
user saw the consent screen, for a client no administrator created and this user never
authorized, with a redirect URI that is not loopback, shows our error page naming the redirect
host with a link to continue. The user's own Deny still redirects, with access_denied and iss."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from consent.models import ClientRegistration
from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    logged_in,
    pkce_pair,
    query_of,
)
from tests.factories import OAuthClientFactory

EVIL = "https://evil.example/landing"
LOOPBACK = "http://127.0.0.1:8765/callback"


def _client(registration: str, redirect_uri: str):
    extra = {}
    if registration == ClientRegistration.METADATA_DOCUMENT:
        extra = {
            "client_id": "https://tools.example/client.json",
            "metadata_expires_at": timezone.now() + timedelta(hours=1),
        }
    return OAuthClientFactory(registration=registration, redirect_uris=[redirect_uri], **extra)


def _bogus_scope(browser: Client, client_app):
    _, challenge = pkce_pair()
    return browser.get(authorize_url(authorize_params(client_app, challenge, scope="bogus")))


def _authorized_before(user, client_app) -> None:
    """The user authorized this client once (a code was issued for an authorized grant)."""
    _, challenge = pkce_pair()
    consent(logged_in(user), authorize_params(client_app, challenge))


UNVETTED = [ClientRegistration.DYNAMIC, ClientRegistration.METADATA_DOCUMENT]

# (registration, redirect URI, who asks) -> redirected automatically?
CASES = [
    *[(reg, EVIL, "anonymous", False) for reg in UNVETTED],
    *[(reg, EVIL, "never authorized", False) for reg in UNVETTED],
    *[(reg, EVIL, "authorized before", True) for reg in UNVETTED],
    *[(reg, LOOPBACK, "never authorized", True) for reg in UNVETTED],
    (ClientRegistration.ADMIN, EVIL, "never authorized", True),
]


@pytest.mark.parametrize(("registration", "redirect_uri", "who", "redirected"), CASES)
def test_errors_before_consent_redirect_only_to_vouched_for_clients(
    user, settings, registration, redirect_uri, who, redirected
):
    client_app = _client(registration, redirect_uri)
    if who == "authorized before":
        _authorized_before(user, client_app)
    browser = Client() if who == "anonymous" else logged_in(user)
    response = _bogus_scope(browser, client_app)
    if redirected:
        assert response.status_code == 302
        query = query_of(response["Location"])
        assert response["Location"].startswith(redirect_uri + "?")
        assert query["error"] == "invalid_scope"
        assert query["iss"] == settings.PUBLIC_URL
        return
    assert response.status_code == 400
    assert "Location" not in response
    html = response.content.decode()
    host = redirect_uri.split("/")[2]
    assert f'<strong class="redirect-host">{host}</strong>' in html
    link = unescape(html.split('class="button" href="', 1)[1].split('"', 1)[0])
    assert link.startswith(redirect_uri + "?")
    assert query_of(link)["error"] == "invalid_scope"
    assert query_of(link)["state"] == "state-123"
    assert query_of(link)["iss"] == settings.PUBLIC_URL


@pytest.mark.parametrize("registration", UNVETTED)
def test_the_users_own_deny_still_redirects_with_access_denied_and_iss(
    user, settings, registration
):
    client_app = _client(registration, EVIL)
    _, challenge = pkce_pair()
    browser = logged_in(user)
    page = browser.get(authorize_url(authorize_params(client_app, challenge)))
    assert page.status_code == 200
    assert "evil.example" in page.content.decode()  # the consent screen shows the host
    response = browser.post(
        "/oauth/authorize", {"request": page.context["signed_request"], "decision": "deny"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(EVIL + "?")
    query = query_of(response["Location"])
    assert query["error"] == "access_denied"
    assert query["iss"] == settings.PUBLIC_URL
