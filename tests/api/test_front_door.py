"""The API's front door: authentication, challenges, CSRF, bodies, 404/405/415 and error shape."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD
from tokens.models import AccessToken, ApiToken, OAuthToken, TokenStatus

METADATA = 'resource_metadata="http://testserver/.well-known/oauth-protected-resource/api"'


def test_no_credential_is_401_with_challenge_without_error(api, db):
    response = api.get("/me")
    assert response.status_code == 401
    assert response.json() == {"type": "Unauthorized", "message": "Authentication is required"}
    assert response["WWW-Authenticate"] == f"Bearer {METADATA}"


@pytest.mark.parametrize(
    "header",
    ["Bearer oat_not-a-real-token", "Bearer uat_nope", "Bearer ", "Bearer a b", "bearer junk"],
)
def test_bad_bearer_is_401_invalid_token(client, db, header):
    response = client.get("/api/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {
        "type": "Unauthorized",
        "message": "Authentication token is invalid or expired",
    }
    assert response["WWW-Authenticate"] == f'Bearer {METADATA}, error="invalid_token"'


def test_token_in_query_string_is_ignored(client, user, oauth_bearer):
    raw = oauth_bearer(user, ["only.User.read"])
    response = client.get(f"/api/me?access_token={raw}")
    assert response.status_code == 401
    assert "error=" not in response["WWW-Authenticate"]
    assert OAuthToken.objects.get(user=user).last_used is None


def test_token_in_form_body_is_ignored(client, user, oauth_bearer):
    raw = oauth_bearer(user, ["only.User.read"])
    response = client.post("/api/me/tokens", {"access_token": raw, "name": "x"})
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_bearer_wins_over_session_and_needs_no_csrf(user, api_bearer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    raw = api_bearer(user, ["all.User"])
    response = browser.post(
        "/api/me/tokens",
        data={"name": "via bearer"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 201
    assert response.json()["creatorType"] == "apiToken"


def test_session_unsafe_request_without_csrf_token_is_403_and_changes_nothing(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/api/me/tokens", data={"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"type": "Forbidden", "message": "CSRF verification failed"}
    assert not ApiToken.objects.exists()


def test_session_unsafe_request_with_csrf_token_is_allowed(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(email=user.email, password=PASSWORD)
    browser.get("/api/me")  # any page; the cookie comes from get_token below
    from django.middleware.csrf import _get_new_csrf_string

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    response = browser.post(
        "/api/me/tokens",
        data={"name": "from the page"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["creatorType"] == "user"
    assert body["creatorId"] == user.pk
    assert body["creatorName"] == user.email


def test_session_safe_request_needs_no_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.get("/api/me")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


@pytest.mark.parametrize("change", ["inactive", "deleted", "expired", "grant_expired", "pending"])
def test_oauth_token_stops_working_on_the_next_request(api, user, oauth_bearer, change):
    raw = oauth_bearer(user, ["only.User.read"])
    assert api.get("/me", token=raw).status_code == 200
    grant = OAuthToken.objects.get(user=user)
    if change == "inactive":
        grant.status = TokenStatus.INACTIVE
        grant.save()
    elif change == "deleted":
        grant.delete()
    elif change == "expired":
        AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif change == "grant_expired":
        OAuthToken.objects.update(expiration_date=timezone.now() - timedelta(seconds=1))
    else:
        OAuthToken.objects.update(authorization_status="pending")
    response = api.get("/me", token=raw)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("change", ["inactive", "deleted", "expired", "user_inactive"])
def test_api_token_stops_working_on_the_next_request(api, user, api_bearer, change):
    raw = api_bearer(user, ["all.User"])
    assert api.get("/me", token=raw).status_code == 200
    if change == "inactive":
        ApiToken.objects.update(status=TokenStatus.INACTIVE)
    elif change == "deleted":
        ApiToken.objects.all().delete()
    elif change == "expired":
        ApiToken.objects.update(expiration_date=timezone.now() - timedelta(seconds=1))
    else:
        user.is_active = False
        user.save()
    assert api.get("/me", token=raw).status_code == 401


def test_access_token_bound_to_another_resource_is_401(api, user, oauth_bearer):
    raw = oauth_bearer(user, ["only.User.read"], resource=["https://other.example/mcp"])
    assert api.get("/me", token=raw).status_code == 401


def test_insufficient_scope_is_403_with_challenge(api, user, oauth_bearer):
    raw = oauth_bearer(user, ["all.Application.read"])
    response = api.get("/me", token=raw)
    assert response.status_code == 403
    assert response.json() == {
        "type": "Forbidden",
        "message": "Insufficient scope for this operation",
    }
    assert response["WWW-Authenticate"] == (
        f'Bearer {METADATA}, error="insufficient_scope", scope="only.User.read"'
    )


def test_unknown_api_path_is_json_404(api, db):
    response = api.get("/does/not/exist")
    assert response.status_code == 404
    assert response.json() == {"type": "NotFound", "message": "Endpoint was not found"}


def test_unsupported_method_is_405_with_allow(api, user, api_bearer):
    raw = api_bearer(user, ["all.User"])
    response = api.call("PUT", "/me/tokens", token=raw, body={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {
        "type": "MethodNotAllowed",
        "message": "Method PUT is not allowed here",
    }
    assert response["Allow"] == "GET, POST, HEAD"
    assert not ApiToken.objects.exclude(name="Test token").exists()


@pytest.mark.parametrize(
    ("content_type", "data", "status", "error_type"),
    [
        ("text/plain", b'{"name": "x"}', 415, "UnsupportedMediaType"),
        ("application/x-www-form-urlencoded", b"name=x", 415, "UnsupportedMediaType"),
        ("application/json; charset=latin-1", b'{"name": "x"}', 415, "UnsupportedMediaType"),
        ("application/json", b"", 400, "Validation"),
        ("application/json", b"{", 400, "Validation"),
        ("application/json", b"[1, 2]", 400, "Validation"),
        ("application/json", b'"name"', 400, "Validation"),
        ("application/json", b'{"name": NaN}', 400, "Validation"),
        ("application/json", b'{"name": "\\u0000"}', 400, "Validation"),
        ("application/json", b'{"name": "\\ud800"}', 400, "Validation"),
        ("application/json", b'{"name": "\xff"}', 400, "Validation"),
        ("application/json", b"[" * 30000 + b"]" * 30000, 400, "Validation"),
        ("application/json", b'{"a":' * 40 + b"1" + b"}" * 40, 400, "Validation"),
        ("application/json", b'{"name": "' + b"x" * 70000 + b'"}', 413, "PayloadTooLarge"),
    ],
)
def test_bad_bodies_are_4xx_and_change_nothing(
    client, user, api_bearer, content_type, data, status, error_type
):
    raw = api_bearer(user, ["all.User"])
    response = client.post(
        "/api/me/tokens", data=data, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == status
    assert response.json()["type"] == error_type
    assert set(response.json()) == {"type", "message"}
    assert ApiToken.objects.count() == 1


def test_malformed_path_id_is_404(api, user, api_bearer):
    raw = api_bearer(user, ["all.User"])
    response = api.get("/applications/not-an-id", token=raw)
    assert response.status_code == 404
    assert response.json() == {"type": "NotFound", "message": "Application was not found"}


def test_responses_are_not_cached(api, user, api_bearer):
    raw = api_bearer(user, ["all.User"])
    assert api.get("/me", token=raw)["Cache-Control"] == "no-store"
    assert api.get("/me")["Cache-Control"] == "no-store"


def test_last_used_is_written_at_most_once_a_minute(api, user, api_bearer):
    raw = api_bearer(user, ["all.User"])
    api.get("/me", token=raw)
    first = ApiToken.objects.get().last_used
    assert first is not None
    api.get("/me", token=raw)
    assert ApiToken.objects.get().last_used == first
    ApiToken.objects.update(last_used=first - timedelta(minutes=2))
    api.get("/me", token=raw)
    assert ApiToken.objects.get().last_used > first
