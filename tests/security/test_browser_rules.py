"""Rules 6 and 7: `iss` on every authorization response, byte-equal to the metadata issuer
(RFC 9207 §2); anti-framing and Referrer-Policy on every interactive page (RFC 9700 §4.16,
§4.2.4), no CORS on the authorization endpoint (§2.6), CSRF on every form, and 302/303 (never
307) after a POSTed login or consent (§4.12). Single cases are in
tests/consent/test_authorize.py, tests/consent/test_consent_screen.py,
tests/consent/test_metadata.py and tests/pages/test_layout.py."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.principals import session_principal
from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    logged_in,
    pkce_pair,
)
from tests.factories import PASSWORD, MembershipFactory, OAuthClientFactory
from tokens.models import OAuthToken, TokenStatus
from tokens.services.api_tokens import api_token_create


def _location_params(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.content[:300]
    return parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True)


def _consent_post(browser: Client, client_app, decision: str, **overrides):
    _, challenge = pkce_pair()
    page = browser.get(authorize_url(authorize_params(client_app, challenge, **overrides)))
    return browser.post(
        "/oauth/authorize",
        {"request": page.context["signed_request"], "decision": decision, "default_role": "view"},
    )


AUTHORIZATION_RESPONSES = {
    "code": lambda b, c: _consent_post(b, c, "authorize"),
    "access_denied": lambda b, c: _consent_post(b, c, "deny"),
    "invalid_scope": lambda b, c: b.get(
        authorize_url(authorize_params(c, pkce_pair()[1], scope="all.User"))
    ),
    "unsupported_response_type": lambda b, c: b.get(
        authorize_url(authorize_params(c, pkce_pair()[1], response_type="token"))
    ),
    "invalid_target": lambda b, c: b.get(
        authorize_url(authorize_params(c, pkce_pair()[1], resource="https://other.example"))
    ),
    "invalid_request": lambda b, c: b.get(
        authorize_url(authorize_params(c, pkce_pair()[1], code_challenge_method="plain"))
    ),
}


@pytest.mark.parametrize("public_url", ["http://testserver", "https://auth.example.com:8443"])
@pytest.mark.parametrize("kind", list(AUTHORIZATION_RESPONSES))
def test_every_authorization_response_carries_one_iss_equal_to_the_issuer(
    user, client_app, settings, public_url, kind
):
    settings.PUBLIC_URL = public_url
    settings.API_RESOURCE_URL = public_url + "/api"
    issuer = Client().get("/.well-known/oauth-authorization-server").json()["issuer"]
    params = _location_params(AUTHORIZATION_RESPONSES[kind](logged_in(user), client_app))
    assert params["iss"] == [issuer]
    assert issuer == public_url
    assert ("code" in params) == (kind == "code")
    if kind != "code":
        assert params["error"] == [kind]


def _interactive_pages(user, client_app) -> dict[str, object]:
    """One response of every kind of page a person sees."""
    anonymous = Client()
    browser = logged_in(user)
    _, challenge = pkce_pair()
    token = OAuthToken.objects.create(
        user=user,
        client=client_app,
        name="Tool",
        scope=["only.User.read"],
        redirect_uri=client_app.redirect_uris[0],
        code_challenge="x" * 43,
        status=TokenStatus.ACTIVE,
        authorization_status="authorized",
    )
    api_token, _ = api_token_create(
        owner=user, creator=user, actor=session_principal(user), name="CI", scope=["all.User.read"]
    )
    return {
        "login": anonymous.get("/accounts/login/"),
        "login-error": anonymous.post("/accounts/login/", {"username": "x@y.z", "password": "n"}),
        "authorize-login-redirect-target": anonymous.get(
            "/accounts/login/", {"next": authorize_url(authorize_params(client_app, challenge))}
        ),
        "consent": browser.get(authorize_url(authorize_params(client_app, challenge))),
        "consent-error-page": browser.get(authorize_url({"client_id": "unknown"})),
        "home": browser.get("/"),
        "my-account": browser.get("/me"),
        "oauth-token-list": browser.get("/me/oauth-tokens"),
        "oauth-token-detail": browser.get(f"/me/oauth-tokens/{token.pk}"),
        "oauth-token-delete": browser.get(f"/me/oauth-tokens/{token.pk}/delete"),
        "api-token-list": browser.get("/me/tokens"),
        "api-token-new": browser.get("/me/tokens/new"),
        "api-token-detail": browser.get(f"/me/tokens/{api_token.pk}"),
        "not-found": browser.get("/no/such/page"),
        "admin-login": anonymous.get("/admin/login/"),
    }


def test_every_interactive_page_forbids_framing_and_referrers(user, client_app):
    for name, response in _interactive_pages(user, client_app).items():
        assert response.status_code in (200, 400, 404), name
        assert response["X-Frame-Options"] == "DENY", name
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], name
        assert response["Referrer-Policy"] == "no-referrer", name


def test_every_post_form_carries_a_csrf_token(user, client_app):
    checked = 0
    for name, response in _interactive_pages(user, client_app).items():
        html = response.content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method=["\']?post', form, flags=re.I):
                assert 'name="csrfmiddlewaretoken"' in form, (name, form[:200])
                checked += 1
    assert checked >= 6


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(user, client_app):
    strict = Client(enforce_csrf_checks=True)
    login = strict.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert login.status_code == 403
    assert "_auth_user_id" not in strict.session

    strict.force_login(user)
    token = OAuthToken.objects.create(
        user=user,
        client=client_app,
        name="Tool",
        scope=["only.User.read"],
        redirect_uri=client_app.redirect_uris[0],
        code_challenge="x" * 43,
        authorization_status="authorized",
    )
    for path, data in [
        (f"/me/oauth-tokens/{token.pk}/status", {"status": "inactive"}),
        (f"/me/oauth-tokens/{token.pk}/delete", {}),
        (f"/me/oauth-tokens/{token.pk}", {"name": "Renamed", "default_role": "admin"}),
        ("/me/tokens/new", {"name": "Sneaky", "scope": "all.User"}),
        ("/accounts/logout/", {}),
    ]:
        assert strict.post(path, data).status_code == 403, path
    token.refresh_from_db()
    assert (token.name, token.status, token.default_role) == ("Tool", "active", "view")
    assert not user.api_tokens.exists()
    assert strict.get("/me").status_code == 200  # still signed in: logout was refused too


def test_login_and_consent_posts_answer_302_never_307(user, client_app):
    login = Client().post(
        "/accounts/login/", {"username": user.email, "password": PASSWORD, "next": "/me"}
    )
    assert login.status_code == 302
    for decision in ("authorize", "deny"):
        assert _consent_post(logged_in(user), client_app, decision).status_code == 302


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/oauth/authorize", "GET"),
        ("/oauth/authorize", "POST"),
        ("/accounts/login/", "POST"),
        ("/me/oauth-tokens", "GET"),
    ],
)
def test_no_cors_on_the_authorization_endpoint_or_the_pages(db, path, method):
    preflight = Client().options(
        path,
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    simple = Client().get(path, HTTP_ORIGIN="https://evil.example")
    for response in (preflight, simple):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


def test_the_consent_page_loads_nothing_from_third_parties(user):
    """RFC 9700 §4.2.4: nothing on the authorization page may leak its URL to another site;
    the only third-party reference allowed is the client's own logo image."""
    client_app = OAuthClientFactory(logo_uri="https://tool.example/logo.png")
    MembershipFactory(user=user)
    _, challenge = pkce_pair()
    page = logged_in(user).get(authorize_url(authorize_params(client_app, challenge)))
    html = page.content.decode()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert set(external) <= {"https://tool.example/logo.png"}
    assert re.search(r'<img[^>]*referrerpolicy="no-referrer"', html) or (
        page["Referrer-Policy"] == "no-referrer"
    )
