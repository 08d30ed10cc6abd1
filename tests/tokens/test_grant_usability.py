""" "Is this grant usable" has one home (tokens.selectors.GRANT_USABLE), and every caller obeys it:
the API's bearer check, introspection (RFC 7662), the refresh grant (RFC 6749 §6), the code
exchange and the My Account pages. One table takes a grant through each state and checks that
they all agree, on every row."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from consent.models import ClientRegistration, OAuthClient
from tests.consent.helpers import (
    authorize_params,
    basic_auth,
    confidential_client,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    refresh,
    tokens_for,
)
from tests.factories import UserFactory
from tokens.authentication import principal_from_bearer
from tokens.models import OAuthToken
from tokens.services.oauth_tokens import oauth_token_delete


def _deactivate_user(grant: OAuthToken) -> None:
    User.objects.filter(pk=grant.user_id).update(is_active=False)


def _suspend_client(grant: OAuthToken) -> None:
    OAuthClient.objects.filter(pk=grant.client_id).update(is_suspended=True)


def _expire(grant: OAuthToken) -> None:
    past = timezone.now() - timedelta(seconds=1)
    OAuthToken.objects.filter(pk=grant.pk).update(expiration_date=past)


STATES = [
    ("active", lambda grant: None, True),
    ("inactive", lambda grant: OAuthToken.objects.filter(pk=grant.pk).update(status="inactive"), False),
    ("pending", lambda grant: OAuthToken.objects.filter(pk=grant.pk).update(authorization_status="pending"), False),
    ("expired", _expire, False),
    ("deleted", lambda grant: oauth_token_delete(token=grant), False),
    ("user deactivated", _deactivate_user, False),
    ("client suspended", _suspend_client, False),
]  # fmt: skip


@pytest.fixture
def resource_server_auth(db) -> str:
    """An administrator-registered confidential client: it may introspect any token."""
    server, secret = confidential_client(client_name="Resource Server")
    server.registration = ClientRegistration.ADMIN
    server.save()
    return basic_auth(server.client_id, secret)


def _api_answers(access: str) -> bool:
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def _introspection(token: str, auth: str) -> dict:
    response = Client().post("/oauth/introspect", {"token": token}, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    return response.json()


def _pages_show_usable(browser: Client, grant_id: str) -> bool:
    """The owner's detail page and list row both mark the token usable (the pages are not
    served at all once the user is deactivated, and 404 once the token is deleted)."""
    detail = browser.get(f"/me/oauth-tokens/{grant_id}")
    listing = browser.get("/me/oauth-tokens")
    detail_shows = detail.status_code == 200 and 'data-usable="true"' in detail.text
    row = f'<tr id="row-{grant_id}" data-usable="true">'
    list_shows = listing.status_code == 200 and row in listing.text
    assert detail_shows == list_shows
    return detail_shows


@pytest.mark.parametrize(("state", "make", "usable"), STATES, ids=[s[0] for s in STATES])
def test_every_caller_agrees_on_whether_a_grant_is_usable(
    state, make, usable, user, client_app, resource_server_auth
):
    issued = tokens_for(user, client_app)
    grant = OAuthToken.objects.get(user=user)
    browser = logged_in(user)
    make(grant)

    principal = principal_from_bearer(issued["access_token"])
    access_info = _introspection(issued["access_token"], resource_server_auth)
    refresh_info = _introspection(issued["refresh_token"], resource_server_auth)
    seen = {
        "api": _api_answers(issued["access_token"]),
        "bearer check": principal is not None,
        "introspection (access token)": access_info["active"],
        "introspection (refresh token)": refresh_info["active"],
        "pages": _pages_show_usable(browser, grant.pk),
        "refresh": refresh(Client(), client_app, issued["refresh_token"])["status"] == 200,
    }
    assert seen == dict.fromkeys(seen, usable), state
    if usable:
        # Both bearer paths read the same row: the same user, client and scope.
        assert access_info["sub"] == principal.user.pk
        assert access_info["client_id"] == principal.client_id == client_app.client_id
        assert set(access_info["scope"].split()) == principal.scope
    else:
        assert access_info == refresh_info == {"active": False}


def test_a_code_exchange_for_a_suspended_client_is_invalid_grant(user, client_app):
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    _suspend_client(OAuthToken.objects.get(user=user))
    result = exchange(Client(), client_app, code, verifier)
    assert result["status"] == 400
    assert result["body"]["error"] == "invalid_grant"
    assert not OAuthToken.objects.filter(user=user, authorization_status="authorized").exists()


def test_suspension_stops_every_token_of_the_client_and_clearing_it_restores_them(
    client_app, resource_server_auth
):
    users = [UserFactory(), UserFactory()]
    issued = [tokens_for(each, client_app) for each in users]
    assert all(_api_answers(body["access_token"]) for body in issued)

    OAuthClient.objects.filter(pk=client_app.pk).update(is_suspended=True)
    for body in issued:
        assert not _api_answers(body["access_token"])
        assert _introspection(body["access_token"], resource_server_auth) == {"active": False}
    refused = refresh(Client(), client_app, issued[0]["refresh_token"])
    assert (refused["status"], refused["body"]["error"]) == (400, "invalid_grant")

    OAuthClient.objects.filter(pk=client_app.pk).update(is_suspended=False)
    for body in issued:
        assert _api_answers(body["access_token"])
        assert _introspection(body["access_token"], resource_server_auth)["active"] is True
    assert refresh(Client(), client_app, issued[0]["refresh_token"])["status"] == 200
