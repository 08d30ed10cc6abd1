"""End to end through the Django test client: authorize -> login -> consent -> code -> token ->
refresh, and the protected API."""

from urllib.parse import urlsplit

from django.test import Client

from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
    refresh,
)
from tests.factories import PASSWORD
from tokens.authentication import principal_from_bearer
from tokens.models import AuthorizationStatus, OAuthToken, TokenEvent


def test_full_flow_authorize_login_consent_code_token_refresh(user, client_app, settings):
    verifier, challenge = pkce_pair()
    browser = Client()
    params = authorize_params(client_app, challenge)

    # Not logged in: sent to the Django login, then back to the same authorization request.
    first = browser.get(authorize_url(params))
    assert first.status_code == 302
    assert first["Location"].startswith("/accounts/login/?next=")
    login = browser.post(first["Location"], {"username": user.email, "password": PASSWORD})
    assert login.status_code == 302
    assert login["Location"] == authorize_url(params)

    page = browser.get(login["Location"])
    assert page.status_code == 200
    assert client_app.client_name in page.content.decode()
    response = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "view",
        },
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(client_app.redirect_uris[0] + "?")
    query = query_of(location)
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == "state-123"
    assert query["iss"] == settings.PUBLIC_URL
    grant = OAuthToken.objects.get(user=user)
    assert grant.authorization_status == AuthorizationStatus.PENDING
    assert grant.name == client_app.client_name

    token = exchange(Client(), client_app, query["code"], verifier)
    assert token["status"] == 200
    body = token["body"]
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "only.User.read all.Application.read"
    assert body["access_token"].startswith("oat_") and body["refresh_token"].startswith("ort_")
    assert token["response"]["Cache-Control"] == "no-store"
    grant.refresh_from_db()
    assert grant.authorization_status == AuthorizationStatus.AUTHORIZED
    principal = principal_from_bearer(body["access_token"])
    assert principal is not None and principal.user == user
    assert principal.scope == {"only.User.read", "all.Application.read"}
    me = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert Client().get("/api/me").status_code == 401

    refreshed = refresh(Client(), client_app, body["refresh_token"])
    assert refreshed["status"] == 200
    assert refreshed["body"]["refresh_token"] != body["refresh_token"]
    assert principal_from_bearer(refreshed["body"]["access_token"]).user == user
    me = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {refreshed['body']['access_token']}")
    assert me.status_code == 200
    kinds = set(TokenEvent.objects.filter(token_id=grant.pk).values_list("kind", flat=True))
    assert {"created", "authorized", "refreshed"} <= kinds


def test_consent_records_default_role_and_org_overrides(
    user, client_app, organization, member_factory
):
    member_factory(user, organization, role="edit")
    verifier, challenge = pkce_pair()
    browser = logged_in(user)
    query = consent(
        browser,
        authorize_params(client_app, challenge),
        default_role="collaborate",
        **{f"org_{organization.pk}": "view", "org_sandbox": "admin"},
    )
    assert "code" in query
    grant = OAuthToken.objects.get(user=user)
    assert grant.default_role == "collaborate"
    assert grant.org_roles == [
        {"orgId": organization.pk, "role": "view"},
        {"orgId": "sandbox", "role": "admin"},
    ]
    assert grant.redirect_uri == client_app.redirect_uris[0]
    assert urlsplit(grant.redirect_uri).hostname == "client.example"
