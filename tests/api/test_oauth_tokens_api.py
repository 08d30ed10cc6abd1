"""/api/me/oauth-tokens: contract (whole bodies), validation, PATCH limits and deletion."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import make_oauth_bearer
from tests.factories import MembershipFactory, OAuthClientFactory, UserFactory
from tokens.models import AccessToken, OAuthToken, TokenEvent

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def expected_oauth_token(token: OAuthToken) -> dict:
    token.refresh_from_db()
    body = {
        "id": token.pk,
        "oauthTokenId": token.pk,
        "name": token.name,
        "description": token.description,
        "creationDate": iso(token.creation_date),
        "lastUpdated": iso(token.last_updated),
        "defaultRole": token.default_role,
        "orgRoles": token.org_roles,
        "scope": token.scope,
        "status": token.status,
        "oauth": {
            "client_id": token.client.client_id,
            "client_name": token.client.client_name,
            "redirect_uri": token.redirect_uri,
            "resource": token.resource,
            "authorizationStatus": token.authorization_status,
        },
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
def user_token(owner, api_bearer):
    return api_bearer(owner, ["all.User"])


@pytest.fixture
def oauth_client(db):
    return OAuthClientFactory(
        client_name="My OAuth Client",
        client_uri="https://client.example",
        redirect_uris=["https://example.com/callback"],
    )


def post_body(client, **overrides):
    body = {
        "name": "My OAuth App",
        "description": "OAuth application for automation",
        "scope": ["only.User.read", "all.Application.read"],
        "defaultRole": "view",
        "oauth": {
            "client_id": client.client_id,
            "redirect_uri": "https://example.com/callback",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        },
    }
    body.update(overrides)
    return body


def test_list_is_the_users_own_tokens_in_the_reference_shape(api, owner, user_token):
    _, b = make_oauth_bearer(owner, ["only.User.read"])
    OAuthToken.objects.filter(pk=b.pk).update(name="b token")
    _, a = make_oauth_bearer(owner, ["all.Application.read"], default_role="view")
    OAuthToken.objects.filter(pk=a.pk).update(name="a token")
    make_oauth_bearer(UserFactory(), ["only.User.read"])  # someone else's

    response = api.get("/me/oauth-tokens", token=user_token)

    assert response.status_code == 200
    assert response.json() == {
        "items": [expected_oauth_token(a), expected_oauth_token(b)],
        "count": 2,
        "totalCount": 2,
        "perPage": 100,
        "page": 0,
        "sortField": "name",
        "sortDirection": "asc",
        "filter": "",
        "filterField": "",
    }


def test_get_one_and_another_users_token_is_not_found(api, owner, user_token):
    _, mine = make_oauth_bearer(
        owner, ["only.User.read"], client=OAuthClientFactory(logo_uri="data:image/png;base64,AA==")
    )
    _, theirs = make_oauth_bearer(UserFactory(), ["only.User.read"])

    response = api.get(f"/me/oauth-tokens/{mine.pk}", token=user_token)
    assert response.status_code == 200
    expected = expected_oauth_token(mine)
    expected["oauth"] = {
        "client_id": mine.client.client_id,
        "client_name": mine.client.client_name,
        "logo_uri": "data:image/png;base64,AA==",
        "redirect_uri": mine.redirect_uri,
        "resource": ["http://testserver/api"],
        "authorizationStatus": "authorized",
    }
    assert response.json() == expected

    response = api.get(f"/me/oauth-tokens/{theirs.pk}", token=user_token)
    assert response.status_code == 404
    assert response.json() == {"type": "NotFound", "message": "OAuth token was not found"}
    # Upper-case ids are the same id.
    assert api.get(f"/me/oauth-tokens/{mine.pk.upper()}", token=user_token).status_code == 200


def test_post_creates_a_pending_token_with_a_one_year_session(api, owner, user_token, oauth_client):
    before = timezone.now()
    response = api.post("/me/oauth-tokens", token=user_token, body=post_body(oauth_client))

    assert response.status_code == 201
    token = OAuthToken.objects.get(user=owner)
    assert token.is_pending
    assert timedelta(days=364) < token.expiration_date - before < timedelta(days=366)
    assert response.json() == {
        "id": token.pk,
        "oauthTokenId": token.pk,
        "name": "My OAuth App",
        "description": "OAuth application for automation",
        "creationDate": iso(token.creation_date),
        "lastUpdated": iso(token.last_updated),
        "expirationDate": iso(token.expiration_date),
        "defaultRole": "view",
        "orgRoles": [],
        "scope": ["only.User.read", "all.Application.read"],
        "status": "active",
        "oauth": {
            "client_id": oauth_client.client_id,
            "client_name": "My OAuth Client",
            "client_uri": "https://client.example",
            "redirect_uri": "https://example.com/callback",
            "resource": [],
            "authorizationStatus": "pending",
        },
    }
    assert TokenEvent.objects.filter(token_id=token.pk, kind="created").exists()


def test_post_with_null_expiration_never_expires_and_explicit_dates_are_kept(
    api, owner, user_token, oauth_client
):
    response = api.post(
        "/me/oauth-tokens", token=user_token, body=post_body(oauth_client, expirationDate=None)
    )
    assert response.status_code == 201
    assert "expirationDate" not in response.json()
    response = api.post(
        "/me/oauth-tokens",
        token=user_token,
        body=post_body(oauth_client, expirationDate="2099-01-02T03:04:05.678Z"),
    )
    assert response.status_code == 201
    assert response.json()["expirationDate"] == "2099-01-02T03:04:05.678Z"


def test_post_canonicalizes_resources_and_caps(api, owner, user_token, oauth_client):
    org = MembershipFactory(user=owner, role="admin").organization
    body = post_body(oauth_client, orgRoles=[{"orgId": org.pk.upper(), "role": "edit"}])
    body["oauth"]["resource"] = ["HTTP://TESTSERVER/api/", "http://testserver/api"]
    response = api.post("/me/oauth-tokens", token=user_token, body=body)
    assert response.status_code == 201
    assert response.json()["oauth"]["resource"] == ["http://testserver/api"]
    assert response.json()["orgRoles"] == [{"orgId": org.pk, "role": "edit"}]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.pop("name"), "name is required"),
        (lambda b: b.update(name=""), "name: '' should be non-empty"),
        (lambda b: b.update(extra=1), "extra is not an allowed field"),
        (lambda b: b.update(scope=["all.User"]), "scope[0] must be one of"),
        (lambda b: b.update(scope=["only.User.read", "only.User.read"]), "scope: "),
        (lambda b: b.update(defaultRole="owner"), "defaultRole must be one of"),
        (lambda b: b.update(expirationDate="tomorrow"), "expirationDate"),
        (
            lambda b: b.update(expirationDate="2001-01-01T00:00:00Z"),
            "expirationDate must be in the future",
        ),
        (lambda b: b["oauth"].update(code_challenge_method="plain"), "oauth.code_challenge_method"),
        (lambda b: b["oauth"].update(code_challenge="short"), "oauth.code_challenge"),
        (lambda b: b["oauth"].pop("redirect_uri"), "redirect_uri is required in oauth"),
        (lambda b: b["oauth"].update(redirect_uri="https://evil.example/cb"), "oauth.redirect_uri"),
        (lambda b: b["oauth"].update(client_id="f" * 24), "oauth.client_id is not a registered"),
        (lambda b: b["oauth"].update(resource=["https://other.example/api"]), "oauth.resource[0]"),
        (lambda b: b["oauth"].update(resource=["http://testserver/api"] * 11), "oauth.resource"),
        (lambda b: b.update(orgRoles=[{"orgId": "a" * 24, "role": "view"}]), "orgRoles[0].orgId"),
        (
            lambda b: b.update(orgRoles=[{"orgId": "sandbox", "role": "view", "x": 1}]),
            "orgRoles[0].x",
        ),
    ],
)
def test_post_validation_errors_name_the_field_and_create_nothing(
    api, owner, user_token, oauth_client, mutate, message
):
    body = post_body(oauth_client)
    mutate(body)
    response = api.post("/me/oauth-tokens", token=user_token, body=body)
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert message in response.json()["message"]
    assert not OAuthToken.objects.exists()


def test_oauth_tokens_can_never_manage_oauth_tokens(api, owner, oauth_client):
    raw, grant = make_oauth_bearer(owner, ["all.User"])  # not grantable; proves the rule anyway
    response = api.post("/me/oauth-tokens", token=raw, body=post_body(oauth_client))
    assert response.status_code == 403
    assert response.json() == {
        "type": "Forbidden",
        "message": "OAuth tokens cannot create, change or delete API tokens or OAuth tokens",
    }
    assert (
        api.patch(f"/me/oauth-tokens/{grant.pk}", token=raw, body={"name": "x"}).status_code == 403
    )
    assert api.delete(f"/me/oauth-tokens/{grant.pk}", token=raw).status_code == 403
    grant.refresh_from_db()
    assert grant.name == "MCP client"
    assert OAuthToken.objects.count() == 1
    # Reading is fine.
    assert api.get(f"/me/oauth-tokens/{grant.pk}", token=raw).status_code == 200


def test_patch_changes_name_status_and_caps_and_returns_the_token(api, owner, user_token):
    org = MembershipFactory(user=owner, role="admin").organization
    raw, grant = make_oauth_bearer(owner, ["only.User.read"])
    response = api.patch(
        f"/me/oauth-tokens/{grant.pk}",
        token=user_token,
        body={
            "name": "Renamed",
            "description": "d",
            "status": "inactive",
            "defaultRole": "view",
            "orgRoles": [{"orgId": org.pk, "role": "collaborate"}],
        },
    )
    assert response.status_code == 200
    grant.refresh_from_db()
    assert (grant.name, grant.status, grant.default_role) == ("Renamed", "inactive", "view")
    assert grant.org_roles == [{"orgId": org.pk, "role": "collaborate"}]
    assert response.json() == expected_oauth_token(grant)
    # Inactive: its access token fails on the very next request.
    assert api.get("/me", token=raw).status_code == 401
    kinds = set(TokenEvent.objects.filter(token_id=grant.pk).values_list("kind", flat=True))
    assert {"status_changed", "caps_changed", "updated"} <= kinds


@pytest.mark.parametrize(
    "body",
    [
        {"scope": ["all.Application.read"]},
        {"expirationDate": "2099-01-01T00:00:00Z"},
        {"oauth": {}},
        {"status": "paused"},
        {"name": ""},
        {"orgRoles": [{"orgId": "sandbox"}]},
    ],
)
def test_patch_rejects_what_cannot_change_and_changes_nothing(api, owner, user_token, body):
    _, grant = make_oauth_bearer(owner, ["only.User.read"])
    before = OAuthToken.objects.filter(pk=grant.pk).values().get()
    response = api.patch(f"/me/oauth-tokens/{grant.pk}", token=user_token, body=body)
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert OAuthToken.objects.filter(pk=grant.pk).values().get() == before


def test_an_expired_token_cannot_be_changed(api, owner, user_token):
    _, grant = make_oauth_bearer(owner, ["only.User.read"])
    OAuthToken.objects.filter(pk=grant.pk).update(
        expiration_date=timezone.now() - timedelta(days=1)
    )
    response = api.patch(f"/me/oauth-tokens/{grant.pk}", token=user_token, body={"name": "x"})
    assert response.status_code == 400
    assert response.json() == {
        "type": "Validation",
        "message": "An expired OAuth token cannot be changed",
    }
    grant.refresh_from_db()
    assert grant.name == "MCP client"


def test_delete_answers_success_and_the_token_stops_at_once(api, owner, user_token):
    raw, grant = make_oauth_bearer(owner, ["only.User.read"])
    assert api.get("/me", token=raw).status_code == 200
    response = api.delete(f"/me/oauth-tokens/{grant.pk}", token=user_token)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not OAuthToken.objects.filter(pk=grant.pk).exists()
    assert not AccessToken.objects.exists()
    assert api.get("/me", token=raw).status_code == 401
    assert TokenEvent.objects.filter(token_id=grant.pk, kind="deleted").exists()
    # Deleting again: not found.
    assert api.delete(f"/me/oauth-tokens/{grant.pk}", token=user_token).status_code == 404


def test_another_users_token_cannot_be_changed_or_deleted(api, owner, user_token):
    _, theirs = make_oauth_bearer(UserFactory(), ["only.User.read"])
    assert (
        api.patch(f"/me/oauth-tokens/{theirs.pk}", token=user_token, body={"name": "x"}).status_code
        == 404
    )
    assert api.delete(f"/me/oauth-tokens/{theirs.pk}", token=user_token).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "MCP client"
