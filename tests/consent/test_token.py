"""The token endpoint: single-use codes with replay revocation, client authentication,
resource indicators, response shape (RFC 6749 §4.1.3, §5; OAuth 2.1 §4.1.3; RFC 8707)."""

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

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
from tokens.models import AccessToken, AuthorizationCode, OAuthToken, RefreshToken, TokenEvent
from tokens.secrets import secret_digest


def _code(user, client_app, **overrides):
    verifier, challenge = pkce_pair()
    query = consent(logged_in(user), authorize_params(client_app, challenge, **overrides))
    return query["code"], verifier


def test_second_use_of_a_code_is_invalid_grant_and_revokes_what_it_issued(user, client_app):
    code, verifier = _code(user, client_app)
    first = exchange(Client(), client_app, code, verifier)
    assert first["status"] == 200
    assert principal_from_bearer(first["body"]["access_token"]) is not None
    replay = exchange(Client(), client_app, code, verifier)
    assert replay["status"] == 400
    assert replay["body"]["error"] == "invalid_grant"
    assert principal_from_bearer(first["body"]["access_token"]) is None
    assert not OAuthToken.objects.exists()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert TokenEvent.objects.filter(
        kind="deleted", detail__reason="authorization code replayed"
    ).exists()


def test_a_replay_that_is_not_otherwise_valid_revokes_nothing(user, client_app):
    code, verifier = _code(user, client_app)
    first = exchange(Client(), client_app, code, verifier)
    wrong_verifier, _ = pkce_pair()
    replay = exchange(Client(), client_app, code, wrong_verifier)
    assert replay["body"]["error"] == "invalid_grant"
    assert principal_from_bearer(first["body"]["access_token"]) is not None


def test_expired_code_is_invalid_grant(user, client_app):
    code, verifier = _code(user, client_app)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    result = exchange(Client(), client_app, code, verifier)
    assert result["body"]["error"] == "invalid_grant"
    assert OAuthToken.objects.get().is_pending


def test_code_lifetime_is_at_most_ten_minutes_and_stored_hashed(user, client_app):
    code, _ = _code(user, client_app)
    stored = AuthorizationCode.objects.get()
    assert stored.digest == secret_digest(code)
    assert code not in stored.digest
    assert stored.expires_at - stored.creation_date <= timedelta(minutes=10)


def test_code_is_bound_to_its_client(user, client_app):
    code, verifier = _code(user, client_app)
    other = OAuthClientFactory()
    result = exchange(Client(), other, code, verifier, redirect_uri=client_app.redirect_uris[0])
    assert result["body"]["error"] == "invalid_grant"


def test_code_is_bound_to_its_redirect_uri(user):
    client_app = OAuthClientFactory(redirect_uris=["https://a.example/cb", "https://b.example/cb"])
    code, verifier = _code(user, client_app)
    result = exchange(Client(), client_app, code, verifier, redirect_uri="https://b.example/cb")
    assert result["body"]["error"] == "invalid_grant"


def test_token_response_shape_lifetimes_and_storage(user, client_app):
    before = timezone.now()
    body = tokens_for(user, client_app)
    assert body["expires_in"] == 3600
    access = AccessToken.objects.get()
    assert access.digest == secret_digest(body["access_token"])
    assert timedelta(minutes=59) < access.expires_at - before <= timedelta(hours=1, seconds=5)
    assert RefreshToken.objects.get().digest == secret_digest(body["refresh_token"])
    assert len(body["access_token"]) - len("oat_") >= 43  # 256 random bits, URL-safe
    grant = OAuthToken.objects.get()
    assert grant.expiration_date is None  # consent-flow tokens do not expire by default
    assert grant.status == "active"


def test_client_without_refresh_grant_gets_no_refresh_token(user):
    client_app = OAuthClientFactory(grant_types=["authorization_code"])
    assert "refresh_token" not in tokens_for(user, client_app)


def test_confidential_client_authenticates_with_basic(user):
    client_app, secret = confidential_client()
    code, verifier = _code(user, client_app)
    response = Client().post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client_app.redirect_uris[0],
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(client_app.client_id, secret),
    )
    assert response.status_code == 200, response.json()


def test_confidential_client_authenticates_with_post(user):
    client_app, secret = confidential_client(token_endpoint_auth_method="client_secret_post")
    code, verifier = _code(user, client_app)
    result = exchange(Client(), client_app, code, verifier, client_secret=secret)
    assert result["status"] == 200


@pytest.mark.parametrize("secret", [None, "ocs_wrong"])
def test_confidential_client_without_its_secret_is_invalid_client(user, secret):
    client_app, _ = confidential_client()
    code, verifier = _code(user, client_app)
    result = exchange(Client(), client_app, code, verifier, client_secret=secret)
    assert result["status"] in (400, 401)
    assert result["body"]["error"] == "invalid_client"
    assert OAuthToken.objects.get().is_pending


def test_wrong_basic_secret_is_401_invalid_client(user):
    client_app, _ = confidential_client()
    code, verifier = _code(user, client_app)
    response = Client().post(
        "/oauth/token",
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        HTTP_AUTHORIZATION=basic_auth(client_app.client_id, "ocs_nope"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"x\x00y:z").decode(),
    ],
)
def test_malformed_basic_credentials_never_produce_a_500(db, header):
    response = Client().post(
        "/oauth/token", {"grant_type": "authorization_code", "code": "x"}, HTTP_AUTHORIZATION=header
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_request", "invalid_client")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": "password", "username": "a", "password": "b", "client_id": "x"},
        {"grant_type": "client_credentials"},
        {"grant_type": "authorization_code", "client_id": "\x00"},
        {"grant_type": "refresh_token", "client_id": "y" * 5000, "refresh_token": "ort_x"},
    ],
)
def test_bad_token_requests_are_rfc6749_json_errors(db, data):
    response = Client().post("/oauth/token", data)
    assert response.status_code in (400, 401)
    assert set(response.json()) <= {"error", "error_description", "error_uri"}
    assert response["Cache-Control"] == "no-store"


def test_token_endpoint_only_accepts_post(db):
    assert Client().get("/oauth/token").status_code == 405


def test_token_error_responses_are_not_cached(user, client_app):
    code, _ = _code(user, client_app)
    result = exchange(Client(), client_app, code, pkce_pair()[0])
    assert result["response"]["Cache-Control"] == "no-store"
    assert result["response"]["Content-Type"] == "application/json"


def test_resource_defaults_to_the_api(user, client_app, settings):
    tokens_for(user, client_app)
    assert AccessToken.objects.get().resource == [settings.API_RESOURCE_URL]


@pytest.mark.parametrize("variant", ["{api}", "{api}/", "HTTP://TESTSERVER/api"])
def test_resource_indicator_is_stored_and_bound_with_tolerated_variants(
    user, client_app, settings, variant
):
    resource = variant.format(api=settings.API_RESOURCE_URL)
    code, verifier = _code(user, client_app, resource=resource)
    assert OAuthToken.objects.get().resource == [settings.API_RESOURCE_URL]
    result = exchange(Client(), client_app, code, verifier, resource=resource)
    assert result["status"] == 200
    assert AccessToken.objects.get().resource == [settings.API_RESOURCE_URL]
    assert principal_from_bearer(result["body"]["access_token"]) is not None


def test_unknown_resource_at_authorization_is_invalid_target(user, client_app, settings):
    _, challenge = pkce_pair()
    from tests.consent.helpers import authorize_url, query_of

    response = logged_in(user).get(
        authorize_url(authorize_params(client_app, challenge, resource="https://other.example/api"))
    )
    query = query_of(response["Location"])
    assert query["error"] == "invalid_target"
    assert query["iss"] == settings.PUBLIC_URL


def test_more_than_ten_resources_is_invalid_target(user, client_app, settings):
    from tests.consent.helpers import authorize_url, query_of

    _, challenge = pkce_pair()
    params = authorize_params(client_app, challenge)
    params["resource"] = [settings.API_RESOURCE_URL] * 11
    response = logged_in(user).get(authorize_url(params))
    assert query_of(response["Location"])["error"] == "invalid_target"


def test_unknown_resource_at_token_request_is_invalid_target(user, client_app):
    code, verifier = _code(user, client_app)
    result = exchange(Client(), client_app, code, verifier, resource="https://other.example/mcp")
    assert result["body"]["error"] == "invalid_target"
    assert OAuthToken.objects.get().is_pending


def test_access_token_is_bound_to_its_resource(user, client_app):
    """RFC 8707 / RFC 9700 §2.3: a token bound to the API is refused for any other resource."""
    body = tokens_for(user, client_app)
    assert principal_from_bearer(body["access_token"], resource="https://other.example/api") is None
