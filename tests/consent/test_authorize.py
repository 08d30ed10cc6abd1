"""The authorization endpoint: login, error page vs redirect, redirect URI rules, iss, deny."""

import pytest
from django.test import Client

from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
)
from tests.factories import OAuthClientFactory
from tokens.models import OAuthToken, TokenEvent


def _page(browser, client_app, **overrides):
    _, challenge = pkce_pair()
    return browser.get(authorize_url(authorize_params(client_app, challenge, **overrides)))


def test_unknown_client_shows_an_error_page_and_never_redirects(user):
    response = logged_in(user).get(
        authorize_url(
            {
                "response_type": "code",
                "client_id": "ffffffffffffffffffffffff",
                "redirect_uri": "https://evil.example/cb",
                "code_challenge": pkce_pair()[1],
                "code_challenge_method": "S256",
            }
        )
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert b"cannot continue" in response.content


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://client.example/callback/",
        "https://client.example/callback?x=1",
        "https://CLIENT.example/callback",
        "https://client.example/Callback",
        "https://client.example:8443/callback",
        "http://client.example/callback",
        "https://evil.example/callback",
        'https://client.example/cb"\\',
    ],
)
def test_redirect_uri_mismatch_shows_an_error_page_not_a_redirect(user, client_app, redirect_uri):
    response = _page(logged_in(user), client_app, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response


def test_unknown_client_is_an_error_page_even_before_login(db):
    response = Client().get(authorize_url({"client_id": "nope", "response_type": "code"}))
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:51234/callback"),
        ("http://localhost:3000/callback", "http://localhost:49152/callback"),
        ("http://[::1]/cb", "http://[::1]:8080/cb"),
    ],
)
def test_loopback_redirect_uri_matches_on_any_port(user, registered, requested):
    client_app = OAuthClientFactory(redirect_uris=[registered])
    verifier, challenge = pkce_pair()
    browser = logged_in(user)
    query = consent(browser, authorize_params(client_app, challenge, redirect_uri=requested))
    grant = OAuthToken.objects.get(user=user)
    assert grant.redirect_uri == requested
    result = exchange(Client(), client_app, query["code"], verifier, redirect_uri=requested)
    assert result["status"] == 200


def test_code_redirect_goes_to_the_requested_loopback_port(user):
    client_app = OAuthClientFactory(redirect_uris=["http://127.0.0.1/callback"])
    _, challenge = pkce_pair()
    browser = logged_in(user)
    page = browser.get(
        authorize_url(
            authorize_params(client_app, challenge, redirect_uri="http://127.0.0.1:5999/callback")
        )
    )
    response = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "view",
        },
    )
    assert response["Location"].startswith("http://127.0.0.1:5999/callback?code=")


def test_other_errors_redirect_with_error_state_and_iss(user, client_app, settings):
    response = _page(logged_in(user), client_app, scope="all.User")
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert set(query) == {"error", "error_description", "state", "iss"}
    assert query["error"] == "invalid_scope"
    assert query["state"] == "state-123"
    assert query["iss"] == settings.PUBLIC_URL
    assert response["Location"].startswith(client_app.redirect_uris[0] + "?")


def test_unsupported_response_type_redirects_with_error(user, client_app, settings):
    response = _page(logged_in(user), client_app, response_type="token")
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "unsupported_response_type"
    assert query["iss"] == settings.PUBLIC_URL


def test_errors_redirect_only_after_the_user_has_logged_in(client_app):
    response = _page(Client(), client_app, scope="all.User")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_scope_beyond_the_client_registration_is_invalid_scope(user):
    client_app = OAuthClientFactory(scope="only.User.read")
    response = _page(logged_in(user), client_app, scope="only.User.read all.Organization.bounded")
    assert query_of(response["Location"])["error"] == "invalid_scope"


def test_omitted_scope_defaults_to_the_client_registration(user):
    client_app = OAuthClientFactory(scope="only.User.read")
    response = _page(logged_in(user), client_app, scope=None)
    assert response.status_code == 200
    assert [s.name for s in response.context["scopes"]] == ["only.User.read"]


@pytest.mark.parametrize("scope", [None, "", "   "])
def test_omitted_scope_without_registered_scope_uses_the_default_end_to_end(
    user, client_app, settings, scope
):
    """RFC 6749 §3.3 (issue 15 §3): no `scope` and none registered -> OAUTH_DEFAULT_SCOPE,
    shown on the consent screen, bound to the code and returned by the token endpoint."""
    assert settings.OAUTH_DEFAULT_SCOPE == "only.User.read"
    assert client_app.scope == ""
    verifier, challenge = pkce_pair()
    params = authorize_params(client_app, challenge, scope=scope)
    browser = logged_in(user)
    page = browser.get(authorize_url(params))
    assert page.status_code == 200, page.content[:300]
    assert [s.name for s in page.context["scopes"]] == ["only.User.read"]
    assert b"only.User.read" in page.content
    query = consent(browser, params)
    result = exchange(Client(), client_app, query["code"], verifier)
    assert result["status"] == 200, result["body"]
    assert result["body"]["scope"] == "only.User.read"
    assert OAuthToken.objects.get(user=user).scope == ["only.User.read"]


def test_the_default_scope_is_configurable(user, client_app, settings):
    settings.OAUTH_DEFAULT_SCOPE = "only.User.read all.Application.read"
    response = _page(logged_in(user), client_app, scope=None)
    assert response.status_code == 200
    assert [s.name for s in response.context["scopes"]] == [
        "only.User.read",
        "all.Application.read",
    ]


def test_a_registered_scope_wins_over_the_default(user, settings):
    settings.OAUTH_DEFAULT_SCOPE = "all.Application.read"
    client_app = OAuthClientFactory(scope="only.User.read")
    response = _page(logged_in(user), client_app, scope=None)
    assert [s.name for s in response.context["scopes"]] == ["only.User.read"]


def test_omitted_redirect_uri_uses_the_single_registered_one(user, client_app):
    verifier, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge, redirect_uri=None))
    result = exchange(Client(), client_app, query["code"], verifier, redirect_uri=None)
    assert result["status"] == 200


def test_omitted_redirect_uri_with_several_registered_is_an_error_page(user):
    client_app = OAuthClientFactory(redirect_uris=["https://a.example/cb", "https://b.example/cb"])
    response = _page(logged_in(user), client_app, redirect_uri=None)
    assert response.status_code == 400
    assert "Location" not in response


def test_deny_redirects_with_access_denied_and_creates_nothing(user, client_app, settings):
    browser = logged_in(user)
    page = _page(browser, client_app)
    response = browser.post(
        "/oauth/authorize", {"request": page.context["signed_request"], "decision": "deny"}
    )
    assert response.status_code == 302
    assert query_of(response["Location"]) == {
        "error": "access_denied",
        "state": "state-123",
        "iss": settings.PUBLIC_URL,
    }
    assert not OAuthToken.objects.exists()
    assert not TokenEvent.objects.exists()


def test_iss_on_success_is_byte_equal_to_the_metadata_issuer(user, client_app):
    issuer = Client().get("/.well-known/oauth-authorization-server").json()["issuer"]
    _, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge))
    assert query["iss"] == issuer


def test_duplicate_parameters_are_refused_without_redirect(user, client_app):
    _, challenge = pkce_pair()
    params = authorize_params(client_app, challenge)
    params["state"] = ["a", "b"]
    response = logged_in(user).get(authorize_url(params))
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "\x00"},
        {"client_id": "x" * 5000},
        {"client_id": "https://\x00/doc"},
        {"redirect_uri": "https://client.example/callback\x00"},
        {"redirect_uri": "http://[::1"},
        {"scope": "\x00 only.User.read"},
        {"state": "\x00\n\r<script>"},
        {"resource": "http://[bad"},
        {"resource": "\x00"},
        {"code_challenge": "é" * 50},
        {"response_type": 'co"de\\'},
        {"code_challenge_method": '"\\'},
    ],
)
def test_hostile_authorization_requests_never_fail_with_a_500(user, client_app, overrides):
    response = _page(logged_in(user), client_app, **overrides)
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        assert response["Location"].startswith(client_app.redirect_uris[0])


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"request": "\x00"},
        {"request": "garbage", "decision": "authorize"},
        {"decision": "deny"},
    ],
)
def test_hostile_consent_posts_are_error_pages(user, data):
    response = logged_in(user).post("/oauth/authorize", data)
    assert response.status_code == 400
    assert "Location" not in response
    assert not OAuthToken.objects.exists()


def test_consent_post_with_bad_role_values_re_renders_without_creating(user, client_app):
    browser = logged_in(user)
    page = _page(browser, client_app)
    response = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "owner",
            "org_sandbox": "\x00",
        },
    )
    assert response.status_code == 200
    assert not OAuthToken.objects.exists()
