"""Revocation (RFC 7009) and introspection (RFC 7662)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.principals import session_principal
from consent.models import ClientRegistration
from tests.consent.helpers import (
    authorize_params,
    basic_auth,
    confidential_client,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    tokens_for,
)
from tests.factories import OAuthClientFactory
from tokens.authentication import principal_from_bearer
from tokens.models import OAuthToken, TokenEvent
from tokens.services.oauth_tokens import oauth_token_set_status


def _revoke(client_app, token, **extra):
    data = {"token": token, "client_id": client_app.client_id, **extra}
    return Client().post("/oauth/revoke", data)


def test_revoking_an_access_token_stops_it_but_keeps_the_grant(user, client_app):
    body = tokens_for(user, client_app)
    response = _revoke(client_app, body["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert principal_from_bearer(body["access_token"]) is None
    assert OAuthToken.objects.exists()
    assert TokenEvent.objects.filter(kind="revoked", detail__credential="access_token").exists()


def test_revoking_a_refresh_token_revokes_its_whole_grant(user, client_app):
    body = tokens_for(user, client_app)
    response = _revoke(client_app, body["refresh_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert principal_from_bearer(body["access_token"]) is None
    assert not OAuthToken.objects.exists()
    assert TokenEvent.objects.filter(kind="revoked", detail__credential="refresh_token").exists()


def test_revoking_an_unknown_token_answers_200(client_app):
    response = _revoke(client_app, "oat_unknown", token_type_hint="something-else")
    assert response.status_code == 200


def test_revocation_requires_the_token_parameter(client_app):
    response = Client().post("/oauth/revoke", {"client_id": client_app.client_id})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_client_cannot_revoke_another_clients_token(user, client_app):
    body = tokens_for(user, client_app)
    other = OAuthClientFactory()
    response = _revoke(other, body["access_token"])
    assert response.status_code == 400
    assert principal_from_bearer(body["access_token"]) is not None


def _introspect(token, *, auth=None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client().post("/oauth/introspect", {"token": token}, **headers)


def test_introspection_requires_client_authentication(user, client_app):
    body = tokens_for(user, client_app)
    response = _introspect(body["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    public = Client().post(
        "/oauth/introspect", {"token": body["access_token"], "client_id": client_app.client_id}
    )
    assert public.status_code in (400, 401)


def test_introspection_of_an_active_token(user, client_app, settings):
    resource_server, secret = confidential_client(client_name="Resource Server")
    resource_server.registration = ClientRegistration.ADMIN
    resource_server.save()
    body = tokens_for(user, client_app)
    response = _introspect(body["access_token"], auth=basic_auth(resource_server.client_id, secret))
    assert response.status_code == 200
    data = response.json()
    assert data["active"] is True
    assert data["scope"] == "only.User.read all.Application.read"
    assert data["client_id"] == client_app.client_id
    assert data["sub"] == user.pk
    assert data["aud"] == [settings.API_RESOURCE_URL]
    assert data["iss"] == settings.PUBLIC_URL
    assert abs(data["exp"] - (timezone.now() + timedelta(hours=1)).timestamp()) < 10


def test_inactive_expired_and_unknown_tokens_are_not_active(user, client_app):
    resource_server, secret = confidential_client(client_name="Resource Server")
    resource_server.registration = ClientRegistration.ADMIN
    resource_server.save()
    auth = basic_auth(resource_server.client_id, secret)
    body = tokens_for(user, client_app)
    oauth_token_set_status(
        token=OAuthToken.objects.get(),
        actor=session_principal(OAuthToken.objects.get().user),
        active=False,
    )
    assert _introspect(body["access_token"], auth=auth).json() == {"active": False}
    assert _introspect(body["refresh_token"], auth=auth).json() == {"active": False}
    oauth_token_set_status(
        token=OAuthToken.objects.get(),
        actor=session_principal(OAuthToken.objects.get().user),
        active=True,
    )
    assert _introspect(body["access_token"], auth=auth).json()["active"] is True
    OAuthToken.objects.update(expiration_date=timezone.now() - timedelta(seconds=1))
    assert _introspect(body["access_token"], auth=auth).json() == {"active": False}
    assert _introspect("oat_unknown", auth=auth).json() == {"active": False}
    assert _introspect("garbage", auth=auth).json() == {"active": False}


def test_a_dynamic_client_may_only_introspect_its_own_tokens(user, client_app):
    snoop, secret = confidential_client(client_name="Snoop")
    body = tokens_for(user, client_app)
    response = _introspect(body["access_token"], auth=basic_auth(snoop.client_id, secret))
    assert response.json() == {"active": False}
    own_client, own_secret = confidential_client(client_name="Own")
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(own_client, challenge))["code"]
    own = exchange(Client(), own_client, code, verifier, client_secret=own_secret)
    assert own["status"] == 200
    response = _introspect(
        own["body"]["access_token"], auth=basic_auth(own_client.client_id, own_secret)
    )
    assert response.json()["active"] is True
