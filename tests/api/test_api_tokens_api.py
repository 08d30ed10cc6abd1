"""/api/me/tokens and /api/applications/{id}/tokens: contract, secrets, roles, validation."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.principals import session_principal
from tests.api.conftest import make_oauth_bearer
from tests.factories import ApplicationFactory, MembershipFactory, UserFactory
from tokens.models import ApiToken, TokenEvent
from tokens.secrets import secret_digest


def iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def expected_api_token(token: ApiToken) -> dict:
    token.refresh_from_db()
    body = {
        "id": token.pk,
        "apiTokenId": token.pk,
        "ownerId": token.user_id or token.application_id,
        "ownerType": token.owner_type,
        "creatorId": token.creator_id,
        "creatorType": token.creator_type,
        "creatorName": token.creator_name,
        "name": token.name,
        "description": token.description,
        "creationDate": iso(token.creation_date),
        "lastUpdated": iso(token.last_updated),
        "defaultRole": token.default_role,
        "orgRoles": token.org_roles,
        "scope": token.scope,
        "status": token.status,
    }
    if token.expiration_date:
        body["expirationDate"] = iso(token.expiration_date)
    if token.last_used:
        body["lastUsed"] = iso(token.last_used)
    return body


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def org_app(owner):
    membership = MembershipFactory(user=owner, role="admin")
    return ApplicationFactory(organization=membership.organization, name="Robot fleet")


def test_user_token_create_returns_the_secret_once_and_stores_only_its_digest(api, owner):
    api.client.force_login(owner)
    response = api.post(
        "/me/tokens",
        body={
            "name": "My New API Token",
            "expirationDate": "2099-06-13T04:00:00.000Z",
            "scope": ["all.User.read"],
            "status": "active",
            "defaultRole": "view",
        },
    )
    assert response.status_code == 201
    token = ApiToken.objects.get()
    raw = response.json()["token"]
    assert raw.startswith("uat_") and len(raw) > 40
    assert response.json() == {**expected_api_token(token), "token": raw}
    assert response.json()["expirationDate"] == "2099-06-13T04:00:00.000Z"
    assert response.json()["creatorType"] == "user" and response.json()["creatorId"] == owner.pk
    assert token.digest == secret_digest(raw)
    assert raw not in str(ApiToken.objects.values().get())
    # The secret never appears again.
    assert "token" not in api.get(f"/me/tokens/{token.pk}").json()
    assert "token" not in api.get("/me/tokens").json()["items"][0]
    # And it works as a bearer token.
    assert api.get("/me", token=raw).status_code == 200
    assert TokenEvent.objects.filter(token_id=token.pk, kind="created").exists()


def test_user_token_list_has_owner_fields_and_only_own_tokens(api, owner, api_bearer):
    raw = api_bearer(owner, ["all.User"])
    api_bearer(UserFactory(), ["all.User"])
    mine = ApiToken.objects.get(user=owner)
    response = api.get("/me/tokens", token=raw)
    assert response.status_code == 200
    assert response.json() == {
        "items": [expected_api_token(mine)],
        "count": 1,
        "totalCount": 1,
        "perPage": 100,
        "page": 0,
        "sortField": "name",
        "sortDirection": "asc",
        "filter": "",
        "filterField": "",
        "ownerId": owner.pk,
        "ownerType": "user",
    }


def test_user_token_created_by_a_token_names_its_creator(api, owner, api_bearer):
    raw = api_bearer(owner, ["userApiTokens.post"])
    creator = ApiToken.objects.get()
    response = api.post("/me/tokens", token=raw, body={"name": "child"})
    assert response.status_code == 201
    assert response.json()["creatorType"] == "apiToken"
    assert response.json()["creatorId"] == creator.pk
    assert response.json()["creatorName"] == "Test token"
    assert response.json()["scope"] == ["userApiTokens.post"]  # its own scope, never all.User


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": "x", "scope": ["all.Everything"]}, "scope[0] must be one of"),
        ({"name": "x", "scope": ["all.User", "all.User"]}, "scope"),
        ({"name": "x", "expirationDate": None}, "expirationDate"),
        (
            {"name": "x", "expirationDate": "2001-01-01T00:00:00Z"},
            "expirationDate must be in the future",
        ),
        (
            {"name": "x", "expirationDate": "2099-01-01T00:00:00"},
            "expirationDate must include a time zone",
        ),
        ({"name": "x", "status": "paused"}, "status must be one of"),
        ({"name": "x", "token": "mine"}, "token is not an allowed field"),
        ({"name": "x" * 256}, "name"),
        ({"name": "   "}, "name must not be empty"),
    ],
)
def test_user_token_create_validation_creates_nothing(api, owner, body, message):
    api.client.force_login(owner)
    response = api.post("/me/tokens", body=body)
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert message in response.json()["message"]
    assert not ApiToken.objects.exists()


def test_user_token_patch_and_delete(api, owner, api_bearer):
    raw = api_bearer(owner, ["all.User"])
    other = api_bearer(owner, ["all.User.read"])
    target = ApiToken.objects.get(digest=secret_digest(other))
    response = api.patch(
        f"/me/tokens/{target.pk}", token=raw, body={"status": "inactive", "name": "off"}
    )
    assert response.status_code == 200
    assert response.json() == expected_api_token(target)
    assert response.json()["status"] == "inactive"
    assert api.get("/me", token=other).status_code == 401
    # PATCH never changes scope or expiration.
    for body in ({"scope": ["all.User"]}, {"expirationDate": "2099-01-01T00:00:00Z"}):
        assert api.patch(f"/me/tokens/{target.pk}", token=raw, body=body).status_code == 400
    target.refresh_from_db()
    assert target.scope == ["all.User.read"] and target.expiration_date is None
    response = api.delete(f"/me/tokens/{target.pk}", token=raw)
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert not ApiToken.objects.filter(pk=target.pk).exists()
    assert api.get(f"/me/tokens/{target.pk}", token=raw).status_code == 404


def test_an_expired_api_token_cannot_be_changed(api, owner, api_bearer):
    raw = api_bearer(owner, ["all.User"])
    api_bearer(owner, ["all.User"])
    target = ApiToken.objects.exclude(digest=secret_digest(raw)).get()
    ApiToken.objects.filter(pk=target.pk).update(expiration_date=timezone.now() - timedelta(1))
    response = api.patch(f"/me/tokens/{target.pk}", token=raw, body={"name": "x"})
    assert response.json() == {
        "type": "Validation",
        "message": "An expired API token cannot be changed",
    }
    target.refresh_from_db()
    assert target.name == "Test token"


def test_oauth_tokens_cannot_manage_user_api_tokens(api, owner, api_bearer):
    api_bearer(owner, ["all.User"])
    target = ApiToken.objects.get()
    raw, _ = make_oauth_bearer(owner, ["all.User"])
    assert api.post("/me/tokens", token=raw, body={"name": "x"}).status_code == 403
    assert api.patch(f"/me/tokens/{target.pk}", token=raw, body={"name": "x"}).status_code == 403
    assert api.delete(f"/me/tokens/{target.pk}", token=raw).status_code == 403
    assert ApiToken.objects.get().name == "Test token"
    assert api.get(f"/me/tokens/{target.pk}", token=raw).status_code == 200


def test_application_token_contract(api, owner, org_app, api_bearer):
    raw = api_bearer(owner, ["all.User"])
    response = api.post(
        f"/applications/{org_app.pk}/tokens",
        token=raw,
        body={"name": "Device gateway", "scope": ["all.Application"]},
    )
    assert response.status_code == 201
    token = ApiToken.objects.get(application=org_app)
    secret = response.json()["token"]
    assert secret.startswith("aat_")
    assert response.json() == {**expected_api_token(token), "token": secret}
    assert response.json()["ownerType"] == "application"
    assert response.json()["ownerId"] == org_app.pk

    response = api.get(f"/applications/{org_app.pk}/tokens", token=raw)
    assert response.json() == {
        "items": [expected_api_token(token)],
        "count": 1,
        "totalCount": 1,
        "perPage": 100,
        "page": 0,
        "sortField": "name",
        "sortDirection": "asc",
        "filter": "",
        "filterField": "",
        "ownerId": org_app.pk,
        "ownerType": "application",
    }
    assert api.get(f"/applications/{org_app.pk}/tokens/{token.pk}", token=raw).json() == (
        expected_api_token(token)
    )
    response = api.patch(
        f"/applications/{org_app.pk}/tokens/{token.pk}", token=raw, body={"description": "gw"}
    )
    assert response.json() == expected_api_token(token) and token.description == "gw"
    response = api.delete(f"/applications/{org_app.pk}/tokens/{token.pk}", token=raw)
    assert response.json() == {"success": True}
    assert api.get("/applications", token=secret).status_code == 401


def test_application_token_reaches_only_its_application(api, owner, org_app, api_bearer):
    sibling = ApplicationFactory(organization=org_app.organization)
    raw = api_bearer(org_app, ["all.Application"], creator=owner)
    assert api.get(f"/applications/{org_app.pk}", token=raw).status_code == 200
    assert api.get(f"/applications/{sibling.pk}", token=raw).status_code == 404
    assert api.get(f"/applications/{sibling.pk}/tokens", token=raw).status_code == 404
    # Listing applications is an Organization-level action (reference §4): not for it.
    assert api.get("/applications", token=raw).status_code == 403
    # It can manage its own application's tokens, as the creator.
    response = api.post(f"/applications/{org_app.pk}/tokens", token=raw, body={"name": "c"})
    assert response.status_code == 201
    assert response.json()["creatorType"] == "apiToken"
    assert (
        api.post(f"/applications/{sibling.pk}/tokens", token=raw, body={"name": "c"}).status_code
        == 404
    )
    assert not ApiToken.objects.filter(application=sibling).exists()


def test_application_token_cannot_reach_user_resources(api, owner, org_app, api_bearer):
    raw = api_bearer(org_app, ["all.Application"], creator=owner)
    for path in ("/me", "/me/tokens", "/me/oauth-tokens", "/orgs"):
        assert api.get(path, token=raw).status_code == 403, path


def test_application_token_scopes_are_application_scopes(api, owner, org_app, api_bearer):
    raw = api_bearer(owner, ["all.User"])
    response = api.post(
        f"/applications/{org_app.pk}/tokens", token=raw, body={"name": "x", "scope": ["all.User"]}
    )
    assert response.status_code == 400
    assert "scope[0] all.User is not an application scope" in response.json()["message"]
    assert not ApiToken.objects.filter(application=org_app).exists()


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("none", 404, 404),
        ("view", 200, 403),
        ("collaborate", 200, 403),
        ("edit", 200, 201),
        ("admin", 200, 201),
    ],
)
def test_application_tokens_need_view_to_read_and_edit_to_write(api, api_bearer, role, read, write):
    user = UserFactory()
    membership = MembershipFactory(user=user, role=role)
    app = ApplicationFactory(organization=membership.organization)
    raw = api_bearer(user, ["all.User"])
    assert api.get(f"/applications/{app.pk}/tokens", token=raw).status_code == read
    response = api.post(f"/applications/{app.pk}/tokens", token=raw, body={"name": "x"})
    assert response.status_code == write
    assert ApiToken.objects.filter(application=app).exists() == (write == 201)


def test_another_applications_token_is_not_found_under_this_application(
    api, owner, org_app, api_bearer
):
    other_app = ApplicationFactory(organization=org_app.organization)
    api_bearer(other_app, ["all.Application"], creator=owner)
    token = ApiToken.objects.get(application=other_app)
    raw = api_bearer(owner, ["all.User"])
    assert api.get(f"/applications/{org_app.pk}/tokens/{token.pk}", token=raw).status_code == 404
    assert api.delete(f"/applications/{org_app.pk}/tokens/{token.pk}", token=raw).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2099-02-30T00:00:00Z",
        "2099-01-01",
    ],
)
def test_out_of_range_or_malformed_dates_are_400(api, owner, value):
    api.client.force_login(owner)
    response = api.post("/me/tokens", body={"name": "x", "expirationDate": value})
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert "expirationDate" in response.json()["message"]
    assert not ApiToken.objects.exists()


def test_the_service_checks_scopes_against_the_reference_enum(db, owner, org_app):
    from accounts.errors import DomainError
    from tokens.services.api_tokens import api_token_create

    with pytest.raises(DomainError, match=r"scope\[1\] nope.get is not a known scope"):
        api_token_create(
            owner=owner,
            creator=owner,
            actor=session_principal(owner),
            name="x",
            scope=["all.User", "nope.get"],
        )
    with pytest.raises(DomainError, match=r"scope\[0\] orgs.get is not an application scope"):
        api_token_create(
            owner=org_app,
            creator=owner,
            actor=session_principal(owner),
            name="x",
            scope=["orgs.get"],
        )
    token, _ = api_token_create(
        owner=org_app,
        creator=owner,
        actor=session_principal(owner),
        name="x",
        scope=["devices.get", "device.patch"],
    )
    assert token.scope == ["devices.get", "device.patch"]
    assert not ApiToken.objects.filter(name="x").exclude(pk=token.pk).exists()
