"""Refresh tokens: rotation with reuse detection, scope narrowing, grant state (OAuth 2.1
§4.3.1, RFC 9700 §4.14.2, RFC 6749 §6), and token-list semantics (issue 4)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.principals import session_principal
from tests.consent.helpers import confidential_client, exchange, refresh, tokens_for
from tests.factories import OAuthClientFactory
from tokens.authentication import principal_from_bearer
from tokens.models import AccessToken, OAuthToken, RefreshToken, TokenEvent
from tokens.services.oauth_tokens import oauth_token_delete, oauth_token_set_status


def test_each_refresh_rotates_and_the_old_token_is_spent(user, client_app):
    first = tokens_for(user, client_app)
    second = refresh(Client(), client_app, first["refresh_token"])
    assert second["status"] == 200
    body = second["body"]
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == first["scope"]
    assert second["response"]["Cache-Control"] == "no-store"
    assert RefreshToken.objects.filter(used_at__isnull=True).count() == 1
    third = refresh(Client(), client_app, body["refresh_token"])
    assert third["status"] == 200


def test_reuse_of_a_rotated_refresh_token_revokes_the_whole_family(user, client_app):
    first = tokens_for(user, client_app)
    second = refresh(Client(), client_app, first["refresh_token"])["body"]
    reuse = refresh(Client(), client_app, first["refresh_token"])
    assert reuse["status"] == 400
    assert reuse["body"]["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        assert principal_from_bearer(access) is None
    assert (
        refresh(Client(), client_app, second["refresh_token"])["body"]["error"] == "invalid_grant"
    )
    assert not OAuthToken.objects.exists()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert TokenEvent.objects.filter(
        kind="deleted", detail__reason="rotated refresh token reused"
    ).exists()


def test_refresh_may_narrow_scope(user, client_app):
    first = tokens_for(user, client_app)
    narrowed = refresh(Client(), client_app, first["refresh_token"], scope="only.User.read")
    assert narrowed["status"] == 200
    assert narrowed["body"]["scope"] == "only.User.read"
    assert principal_from_bearer(narrowed["body"]["access_token"]).scope == {"only.User.read"}
    # The new refresh token keeps the consented scope (RFC 6749 §6).
    again = refresh(Client(), client_app, narrowed["body"]["refresh_token"])
    assert again["body"]["scope"] == "only.User.read all.Application.read"


def test_refresh_may_never_widen_scope(user, client_app):
    first = tokens_for(user, client_app)
    widened = refresh(
        Client(),
        client_app,
        first["refresh_token"],
        scope="only.User.read all.Organization.bounded",
    )
    assert widened["status"] == 400
    assert widened["body"]["error"] == "invalid_scope"
    assert refresh(Client(), client_app, first["refresh_token"])["status"] == 200


def test_refresh_fails_while_the_oauth_token_is_inactive_and_works_again_after(user, client_app):
    first = tokens_for(user, client_app)
    grant = OAuthToken.objects.get()
    oauth_token_set_status(token=grant, actor=session_principal(grant.user), active=False)
    assert principal_from_bearer(first["access_token"]) is None
    assert refresh(Client(), client_app, first["refresh_token"])["body"]["error"] == "invalid_grant"
    oauth_token_set_status(token=grant, actor=session_principal(grant.user), active=True)
    assert principal_from_bearer(first["access_token"]) is not None
    assert refresh(Client(), client_app, first["refresh_token"])["status"] == 200


def test_refresh_fails_once_the_oauth_token_expired(user, client_app):
    first = tokens_for(user, client_app)
    OAuthToken.objects.update(expiration_date=timezone.now() - timedelta(seconds=1))
    assert principal_from_bearer(first["access_token"]) is None
    assert refresh(Client(), client_app, first["refresh_token"])["body"]["error"] == "invalid_grant"


def test_deleting_the_oauth_token_stops_every_credential(user, client_app):
    first = tokens_for(user, client_app)
    oauth_token_delete(token=OAuthToken.objects.get())
    assert principal_from_bearer(first["access_token"]) is None
    assert refresh(Client(), client_app, first["refresh_token"])["body"]["error"] == "invalid_grant"


def test_refresh_token_is_bound_to_its_client(user, client_app):
    first = tokens_for(user, client_app)
    other = OAuthClientFactory()
    assert refresh(Client(), other, first["refresh_token"])["body"]["error"] == "invalid_grant"
    assert refresh(Client(), client_app, first["refresh_token"])["status"] == 200


def test_confidential_client_must_authenticate_to_refresh(user):
    client_app, secret = confidential_client(token_endpoint_auth_method="client_secret_post")
    from tests.consent.helpers import authorize_params, consent, logged_in, pkce_pair

    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge))["code"]
    body = exchange(Client(), client_app, code, verifier, client_secret=secret)["body"]
    assert refresh(Client(), client_app, body["refresh_token"])["body"]["error"] == "invalid_client"
    assert RefreshToken.objects.filter(used_at__isnull=True).count() == 1
    ok = refresh(Client(), client_app, body["refresh_token"], client_secret=secret)
    assert ok["status"] == 200


def test_refresh_resource_must_be_within_the_grant(user, client_app, settings):
    first = tokens_for(user, client_app)
    bad = refresh(Client(), client_app, first["refresh_token"], resource="https://other.example/")
    assert bad["body"]["error"] == "invalid_target"
    good = refresh(
        Client(), client_app, first["refresh_token"], resource=settings.API_RESOURCE_URL + "/"
    )
    assert good["status"] == 200
