"""Rules 1 and 2: redirect URIs match by exact string (loopback on any port is the only
exception), an untrusted client or redirect URI gets the error page and never a redirect,
and login (`next=`) and logout are no open redirectors either (RFC 9700 §4.1.3, §4.11.2;
RFC 8252 §7.3). Basic variants are in tests/consent/test_authorize.py; these are the
attacker's variants."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
)
from tests.factories import PASSWORD, OAuthClientFactory
from tokens.models import OAuthToken

REGISTERED = "https://client.example/callback"
ATTACKER_VARIANTS = [
    "HTTPS://client.example/callback",
    "https://Client.Example/callback",
    "https://client.example/CALLBACK",
    "https://client.example/callback?",
    "https://client.example/callback?next=https://evil.example",
    "https://client.example/callback#",
    "https://client.example/callback#fragment",
    "https://client.example:443/callback",
    "https://client.example./callback",
    "https://client.example/callback/.",
    "https://client.example/./callback",
    "https://client.example/callback/../callback",
    "https://client.example/%63allback",
    "https://client.example/callback%2F",
    "https://client.example/callback ",
    " https://client.example/callback",
    "https://client.example/callback\t",
    "https://client.example/callback\r\nLocation: https://evil.example",
    # Userinfo: the browser would go to evil.example.
    "https://client.example@evil.example/callback",
    "https://client.example:443@evil.example/callback",
    "https://client.example\\@evil.example/callback",
    "https://evil.example@client.example/callback",
    "https://client.example/callback@evil.example",
    # Look-alike hosts.
    "https://client.example.evil.example/callback",
    "https://evil-client.example/callback",
    "https://client.example.com/callback",
    "https://cl\u0456ent.example/callback",  # Cyrillic i
    "https://xn--clent-9pe.example/callback",
    # Not even URLs of the client.
    "//client.example/callback",
    "https:/client.example/callback",
    "https:client.example/callback",
    "javascript:alert(1)//https://client.example/callback",
    "data:text/html,<script>alert(1)</script>",
]


def _authorize(browser: Client, client_app, redirect_uri: str):
    _, challenge = pkce_pair()
    return browser.get(
        authorize_url(authorize_params(client_app, challenge, redirect_uri=redirect_uri))
    )


def _assert_error_page(response) -> None:
    assert response.status_code == 400
    assert "Location" not in response
    assert b"This authorization request cannot continue" in response.content
    # The page links nowhere the request chose.
    assert b"evil.example" not in response.content


@pytest.mark.parametrize("redirect_uri", ATTACKER_VARIANTS)
def test_redirect_uri_variants_get_the_error_page_signed_in_or_not(user, redirect_uri):
    client_app = OAuthClientFactory(redirect_uris=[REGISTERED])
    _assert_error_page(_authorize(logged_in(user), client_app, redirect_uri))
    _assert_error_page(_authorize(Client(), client_app, redirect_uri))
    assert not OAuthToken.objects.exists()


LOOPBACK_REGISTERED = "http://127.0.0.1/callback"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:5000/callback/",
        "http://127.0.0.1:5000/Callback",
        "http://127.0.0.1:5000/callback?x=1",
        "http://127.0.0.1:5000/callback#x",
        "https://127.0.0.1:5000/callback",
        "http://127.0.0.2:5000/callback",
        "http://localhost:5000/callback",
        "http://[::1]:5000/callback",
        "http://127.0.0.1.evil.example:5000/callback",
        "http://127.0.0.1@evil.example:5000/callback",
        "http://127.0.0.1:5000@evil.example/callback",
        "http://evil.example@127.0.0.1:5000/callback",
        "http://127.0.0.1:5000\\@evil.example/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:+80/callback",
        "http://127.0.0.1:5000:6000/callback",
        "http://127.0.0.1:0x50/callback",
    ],
)
def test_loopback_only_relaxes_the_port(user, redirect_uri):
    client_app = OAuthClientFactory(redirect_uris=[LOOPBACK_REGISTERED])
    _assert_error_page(_authorize(logged_in(user), client_app, redirect_uri))


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1/callback", "http://127.0.0.1:5000/callback"]
)
def test_loopback_on_any_port_completes_the_flow_on_that_port(user, redirect_uri):
    client_app = OAuthClientFactory(redirect_uris=[LOOPBACK_REGISTERED])
    verifier, challenge = pkce_pair()
    browser = logged_in(user)
    query = consent(browser, authorize_params(client_app, challenge, redirect_uri=redirect_uri))
    result = exchange(Client(), client_app, query["code"], verifier, redirect_uri=redirect_uri)
    assert result["status"] == 200


def test_the_token_request_must_repeat_the_exact_redirect_uri(user):
    """RFC 6749 §4.1.3: the code is bound to the redirect URI of its authorization request,
    the loopback port included."""
    client_app = OAuthClientFactory(redirect_uris=[LOOPBACK_REGISTERED])
    verifier, challenge = pkce_pair()
    query = consent(
        logged_in(user),
        authorize_params(client_app, challenge, redirect_uri="http://127.0.0.1:5000/callback"),
    )
    other_port = exchange(
        Client(), client_app, query["code"], verifier, redirect_uri="http://127.0.0.1:5001/callback"
    )
    assert other_port["status"] == 400
    assert other_port["body"]["error"] == "invalid_grant"
    assert OAuthToken.objects.get().is_pending


def test_an_unknown_client_never_redirects_even_with_a_valid_looking_uri(user):
    response = logged_in(user).get(
        authorize_url(
            {
                "response_type": "code",
                "client_id": "0" * 24,
                "redirect_uri": "https://evil.example/cb",
                "scope": "only.User.read",
                "state": "s",
                "code_challenge": pkce_pair()[1],
                "code_challenge_method": "S256",
            }
        )
    )
    _assert_error_page(response)


OFFSITE_NEXT = [
    "https://evil.example/",
    "http://evil.example/oauth/authorize",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http://testserver@evil.example/",
    "http://evil.example\\@testserver/",
    " //evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("next_url", OFFSITE_NEXT)
def test_login_never_redirects_off_site(user, next_url):
    response = Client().post(
        "/accounts/login/", {"username": user.email, "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("next_url", OFFSITE_NEXT)
def test_a_signed_in_visit_to_login_never_redirects_off_site(user, next_url):
    response = logged_in(user).get("/accounts/login/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_returns_to_the_authorization_request(user, client_app):
    _, challenge = pkce_pair()
    target = authorize_url(authorize_params(client_app, challenge))
    response = Client().post(
        "/accounts/login/", {"username": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == target


def test_the_next_field_is_escaped_on_the_login_page(db):
    page = Client().get("/accounts/login/", {"next": '/"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert b"<script>alert(1)" not in page.content


@pytest.mark.parametrize("next_url", OFFSITE_NEXT[:6])
def test_logout_never_redirects_off_site(user, next_url):
    response = logged_in(user).post("/accounts/logout/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
