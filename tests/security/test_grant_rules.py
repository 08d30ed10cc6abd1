"""Rules 5, 8 and 9: refresh rotation with reuse detection, bound to its client, scope never
widening (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2); no implicit or password grant, `code` the only
response type (RFC 9700 §2.1.2, §2.4); tokens bound to their resource (`invalid_target`) and
accepted only in the Authorization header (RFC 8707 §2, OAuth 2.1 §5.1.1). The basic cases
are in tests/consent/test_refresh.py, tests/consent/test_token.py and
tests/api/test_front_door.py."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    basic_auth,
    confidential_client,
    consent,
    exchange,
    logged_in,
    pkce_pair,
    query_of,
    refresh,
    tokens_for,
)
from tests.factories import PASSWORD, UserFactory
from tokens.authentication import principal_from_bearer
from tokens.models import AccessToken, OAuthToken, RefreshToken


def _me(access_token: str) -> int:
    return Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code


# --- Rule 5: refresh tokens -----------------------------------------------------------------


def test_reusing_the_first_refresh_token_after_several_rotations_revokes_the_newest(
    user, client_app
):
    first = tokens_for(user, client_app)
    second = refresh(Client(), client_app, first["refresh_token"])["body"]
    third = refresh(Client(), client_app, second["refresh_token"])["body"]
    assert _me(third["access_token"]) == 200

    reuse = refresh(Client(), client_app, first["refresh_token"])
    assert reuse["status"] == 400 and reuse["body"]["error"] == "invalid_grant"
    assert _me(third["access_token"]) == 401
    assert refresh(Client(), client_app, third["refresh_token"])["status"] == 400
    assert not RefreshToken.objects.exists() and not AccessToken.objects.exists()


def test_credentials_are_not_interchangeable(user, client_app):
    body = tokens_for(user, client_app)
    as_refresh = refresh(Client(), client_app, body["access_token"])
    assert as_refresh["status"] == 400 and as_refresh["body"]["error"] == "invalid_grant"
    assert _me(body["refresh_token"]) == 401
    # Neither mistake cost the rightful holder anything.
    assert _me(body["access_token"]) == 200
    assert refresh(Client(), client_app, body["refresh_token"])["status"] == 200


def test_a_confidential_clients_refresh_token_is_useless_to_another_confidential_client(user):
    owner, owner_secret = confidential_client(client_name="Owner Tool")
    thief, thief_secret = confidential_client(client_name="Thief Tool")
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(owner, challenge))["code"]
    issued = (
        Client()
        .post(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": owner.redirect_uris[0],
                "code_verifier": verifier,
            },
            HTTP_AUTHORIZATION=basic_auth(owner.client_id, owner_secret),
        )
        .json()
    )
    stolen = Client().post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(thief.client_id, thief_secret),
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert _me(issued["access_token"]) == 200


def test_a_narrowed_refresh_never_becomes_a_wider_one(user, client_app):
    body = tokens_for(user, client_app)  # only.User.read all.Application.read
    narrow = refresh(Client(), client_app, body["refresh_token"], scope="only.User.read")["body"]
    assert narrow["scope"] == "only.User.read"
    narrow_api = Client().get(
        "/api/applications", HTTP_AUTHORIZATION=f"Bearer {narrow['access_token']}"
    )
    assert narrow_api.status_code == 403
    wider = refresh(
        Client(),
        client_app,
        narrow["refresh_token"],
        scope="only.User.read all.Application.read all.Organization.read",
    )
    assert wider["status"] == 400 and wider["body"]["error"] == "invalid_scope"
    stored = {tuple(scope) for scope in AccessToken.objects.values_list("scope", flat=True)}
    assert ("all.Organization.read",) not in stored
    assert all("all.Organization.read" not in scope for scope in stored)


def test_refresh_stops_when_the_user_is_deactivated(user, client_app):
    body = tokens_for(user, client_app)
    user.is_active = False
    user.save(update_fields=["is_active"])
    result = refresh(Client(), client_app, body["refresh_token"])
    assert result["status"] == 400 and result["body"]["error"] == "invalid_grant"
    assert _me(body["access_token"]) == 401


# --- Rule 8: no implicit, no password grant -------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "client_credentials",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "AUTHORIZATION_CODE",
    ],
)
def test_only_the_code_and_refresh_grants_exist(db, grant_type):
    user = UserFactory()
    client, secret = confidential_client()
    response = Client().post(
        "/oauth/token",
        {
            "grant_type": grant_type,
            "username": user.email,
            "password": PASSWORD,
            "scope": "only.User.read",
        },
        HTTP_AUTHORIZATION=basic_auth(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists() and not OAuthToken.objects.exists()


@pytest.mark.parametrize(
    "response_type", ["token", "code token", "id_token", "code id_token", "CODE", "none", ""]
)
def test_only_response_type_code_is_accepted(user, client_app, response_type):
    _, challenge = pkce_pair()
    response = logged_in(user).get(
        authorize_url(authorize_params(client_app, challenge, response_type=response_type))
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        location = response["Location"]
        assert "#" not in location and "access_token" not in location
        assert query_of(location)["error"] in ("unsupported_response_type", "invalid_request")
    assert not OAuthToken.objects.exists()


def test_metadata_offers_nothing_but_code_and_refresh(db):
    metadata = Client().get("/.well-known/oauth-authorization-server").json()
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["response_modes_supported"] == ["query"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize(
    "extra",
    [
        {"grant_types": ["implicit"]},
        {"grant_types": ["authorization_code", "password"]},
        {"grant_types": ["authorization_code", "client_credentials"]},
        {"response_types": ["token"]},
        {"response_types": ["code", "token"]},
    ],
)
def test_registration_refuses_implicit_and_password_clients(db, extra):
    body = {"client_name": "Legacy Tool", "redirect_uris": ["https://tool.example/cb"], **extra}
    response = Client().post("/oauth/register", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


# --- Rule 9: resource binding and the Authorization header ----------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "http://testserver/api/v2",
        "http://testserver/apix",
        "http://testserver/",
        "http://testserver/api?x=1",
        "http://testserver/api#f",
        "https://testserver/api",
        "http://evil@testserver/api",
        "http://testserver.evil.example/api",
        "urn:example:api",
    ],
)
def test_a_resource_this_server_does_not_serve_is_invalid_target(user, client_app, resource):
    _, challenge = pkce_pair()
    response = logged_in(user).get(
        authorize_url(authorize_params(client_app, challenge, resource=resource))
    )
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "invalid_target"
    assert "iss" in query
    assert not OAuthToken.objects.exists()


@pytest.mark.parametrize("resource", ["HTTP://TESTSERVER/api", "http://testserver/api/"])
def test_tolerated_spellings_of_the_api_resource_bind_to_the_canonical_one(
    user, client_app, settings, resource
):
    verifier, challenge = pkce_pair()
    code = consent(logged_in(user), authorize_params(client_app, challenge, resource=resource))[
        "code"
    ]
    result = exchange(Client(), client_app, code, verifier, resource=resource)
    assert result["status"] == 200
    assert AccessToken.objects.get().resource == [settings.API_RESOURCE_URL]


def test_a_refresh_cannot_move_the_token_to_another_resource(user, client_app):
    body = tokens_for(user, client_app)
    moved = refresh(
        Client(), client_app, body["refresh_token"], resource="https://other.example/api"
    )
    assert moved["status"] == 400 and moved["body"]["error"] == "invalid_target"
    # A refused request spends nothing.
    assert refresh(Client(), client_app, body["refresh_token"])["status"] == 200


@pytest.mark.parametrize(
    "placement",
    [
        {"QUERY_STRING": "access_token={token}"},
        {"HTTP_X_ACCESS_TOKEN": "{token}"},
        {"HTTP_AUTHORIZATION": "Token {token}"},
        {"HTTP_AUTHORIZATION": "Basic {token}"},
        {"HTTP_COOKIE": "access_token={token}"},
    ],
    ids=["query", "x-header", "token-scheme", "basic-scheme", "cookie"],
)
def test_an_access_token_anywhere_but_the_bearer_header_is_ignored(user, client_app, placement):
    token = tokens_for(user, client_app)["access_token"]
    extra = {key: value.format(token=token) for key, value in placement.items()}
    response = Client().get("/api/me", **extra)
    assert response.status_code == 401
    assert principal_from_bearer(token) is not None
