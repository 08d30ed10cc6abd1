"""The credential ceiling (tokens.ceiling): whatever a token creates or changes ends up with a
scope its caller holds and roles no higher than its caller's; missing fields take the caller's
ceiling; anything above is 403 Forbidden and changes nothing. Issue 15 §1."""

from __future__ import annotations

import pytest

from accounts.principals import session_principal
from apikit.scopes import API_TOKEN_SCOPES, scope_covers
from tests.api.conftest import make_oauth_bearer
from tests.consent.helpers import authorize_params, consent, exchange, logged_in, pkce_pair
from tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    OAuthClientFactory,
    UserFactory,
)
from tokens.models import ApiToken, OAuthToken, TokenStatus
from tokens.services.api_tokens import api_token_create

FORBIDDEN = "Forbidden"


@pytest.fixture
def world(db):
    """A user who is admin of Acme (with an application) and viewer of Globex."""
    user = UserFactory()
    acme = MembershipFactory(user=user, role="admin").organization
    globex = MembershipFactory(user=user, role="view").organization
    app = ApplicationFactory(organization=acme, name="Robot fleet")
    return type("World", (), {"user": user, "acme": acme, "globex": globex, "app": app})


def _token(owner, scope, *, creator=None, default_role="admin", org_roles=None) -> tuple:
    """A token made by the user in the browser (a session), as the pages make them."""
    creator = creator or owner
    return api_token_create(
        owner=owner,
        creator=creator,
        actor=session_principal(creator),
        name="caller",
        scope=scope,
        default_role=default_role,
        org_roles=org_roles or [],
    )


def _snapshot() -> list[tuple]:
    api = ApiToken.objects.order_by("pk").values_list(
        "pk", "scope", "default_role", "org_roles", "status", "name"
    )
    oauth = OAuthToken.objects.order_by("pk").values_list(
        "pk", "scope", "default_role", "org_roles", "status", "name"
    )
    return [*api, *oauth]


def _assert_forbidden(response, before) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["type"] == FORBIDDEN and response.json()["message"]
    assert _snapshot() == before


# --- Minting ---------------------------------------------------------------------------------


def test_a_token_that_may_only_post_tokens_mints_no_broader_one(api, world):
    _, raw = _token(world.user, ["userApiTokens.post"])
    before = _snapshot()
    for body in (
        {"name": "x", "scope": ["all.User"], "defaultRole": "admin"},
        {"name": "x", "scope": ["all.User.read"]},
        {"name": "x", "scope": ["userApiTokens.*"]},
    ):
        _assert_forbidden(api.post("/me/tokens", token=raw, body=body), before)
    # Without a scope, the new token gets the caller's own, not all.User.
    response = api.post("/me/tokens", token=raw, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == ["userApiTokens.post"]


def test_a_token_capped_at_view_mints_tokens_capped_at_view_at_most(api, world):
    _, raw = _token(world.user, ["all.User"], default_role="view")
    before = _snapshot()
    for body in (
        {"name": "x", "defaultRole": "admin"},
        {"name": "x", "defaultRole": "collaborate"},
        {
            "name": "x",
            "defaultRole": "view",
            "orgRoles": [{"orgId": world.acme.pk, "role": "edit"}],
        },
        {"name": "x", "defaultRole": "none", "orgRoles": [{"orgId": "sandbox", "role": "admin"}]},
    ):
        _assert_forbidden(api.post("/me/tokens", token=raw, body=body), before)
    response = api.post("/me/tokens", token=raw, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["defaultRole"] == "view"
    assert response.json()["scope"] == ["all.User"]
    minted = response.json()["token"]
    # The minted token cannot edit the organization its creator could not edit either.
    patch = api.patch(f"/orgs/{world.acme.pk}", token=minted, body={"name": "Pwned"})
    assert patch.status_code == 403
    world.acme.refresh_from_db()
    assert world.acme.name != "Pwned"


def test_missing_roles_take_the_callers_overrides(api, world):
    _, raw = _token(
        world.user,
        ["all.User"],
        default_role="view",
        org_roles=[{"orgId": world.acme.pk, "role": "admin"}],
    )
    response = api.post("/me/tokens", token=raw, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["defaultRole"] == "view"
    # The caller's Acme override, no higher than the new default role.
    assert response.json()["orgRoles"] == [{"orgId": world.acme.pk, "role": "view"}]
    within = {
        "name": "x",
        "defaultRole": "view",
        "orgRoles": [{"orgId": world.acme.pk, "role": "admin"}],
    }
    assert api.post("/me/tokens", token=raw, body=within).status_code == 201


def test_a_narrow_user_token_cannot_widen_an_application_token(api, world):
    _, raw = _token(world.user, ["all.User.read"])
    before = _snapshot()
    body = {"name": "x", "scope": ["all.Application"]}
    _assert_forbidden(
        api.post(f"/applications/{world.app.pk}/tokens", token=raw, body=body), before
    )


def test_an_application_token_that_may_only_post_tokens_mints_no_broader_one(api, world):
    _, raw = _token(world.app, ["applicationApiTokens.post"], creator=world.user)
    before = _snapshot()
    body = {"name": "x", "scope": ["all.Application"]}
    url = f"/applications/{world.app.pk}/tokens"
    _assert_forbidden(api.post(url, token=raw, body=body), before)
    response = api.post(url, token=raw, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == ["applicationApiTokens.post"]
    minted = response.json()["token"]
    patch = api.patch(f"/applications/{world.app.pk}", token=minted, body={"name": "Pwned"})
    assert patch.status_code == 403
    world.app.refresh_from_db()
    assert world.app.name == "Robot fleet"


def test_an_application_token_mints_no_higher_role_than_its_own(api, world):
    _, raw = _token(world.app, ["all.Application"], creator=world.user, default_role="edit")
    before = _snapshot()
    url = f"/applications/{world.app.pk}/tokens"
    _assert_forbidden(api.post(url, token=raw, body={"name": "x", "defaultRole": "admin"}), before)
    response = api.post(url, token=raw, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["defaultRole"] == "edit"


def test_an_application_tokens_org_roles_may_name_its_own_organization(api, world):
    api.client.force_login(world.user)
    url = f"/applications/{world.app.pk}/tokens"
    own = {
        "name": "x",
        "defaultRole": "view",
        "orgRoles": [{"orgId": world.acme.pk, "role": "edit"}],
    }
    response = api.post(url, body=own)
    assert response.status_code == 201, response.content
    assert response.json()["orgRoles"] == [{"orgId": world.acme.pk, "role": "edit"}]
    before = _snapshot()
    other = {"name": "x", "orgRoles": [{"orgId": world.globex.pk, "role": "view"}]}
    response = api.post(url, body=other)
    assert response.status_code == 400 and response.json()["type"] == "Validation"
    assert _snapshot() == before


def test_a_session_mints_application_tokens_no_higher_than_the_users_role(api, world):
    editor = UserFactory()
    MembershipFactory(user=editor, organization=world.acme, role="edit")
    api.client.force_login(editor)
    url = f"/applications/{world.app.pk}/tokens"
    before = _snapshot()
    _assert_forbidden(api.post(url, body={"name": "x", "defaultRole": "admin"}), before)
    response = api.post(url, body={"name": "minted"})
    assert response.status_code == 201, response.content
    assert response.json()["defaultRole"] == "edit"


def test_a_session_is_limited_only_by_the_users_roles(api, world):
    api.client.force_login(world.user)
    response = api.post("/me/tokens", body={"name": "full"})
    assert response.status_code == 201
    assert response.json()["scope"] == ["all.User"] and response.json()["defaultRole"] == "admin"


def test_a_token_cannot_create_an_oauth_token_above_itself(api, world):
    _, raw = _token(world.user, ["all.User"], default_role="view")
    client = OAuthClientFactory(redirect_uris=["https://client.example/callback"])
    body = {
        "name": "x",
        "defaultRole": "admin",
        "scope": ["all.Organization.bounded"],
        "oauth": {
            "client_id": client.client_id,
            "redirect_uri": "https://client.example/callback",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    }
    _, narrow = _token(world.user, ["userOauthTokens.post"])
    before = _snapshot()
    _assert_forbidden(api.post("/me/oauth-tokens", token=raw, body=body), before)
    _assert_forbidden(
        api.post("/me/oauth-tokens", token=narrow, body={**body, "defaultRole": "view"}), before
    )
    del body["defaultRole"]
    response = api.post("/me/oauth-tokens", token=raw, body=body)
    assert response.status_code == 201, response.content
    assert response.json()["defaultRole"] == "view"


# --- Raising -----------------------------------------------------------------------------------


def test_a_token_capped_at_view_cannot_raise_its_own_cap(api, world):
    token, raw = _token(world.user, ["all.User"], default_role="view")
    before = _snapshot()
    response = api.patch(f"/me/tokens/{token.pk}", token=raw, body={"defaultRole": "admin"})
    _assert_forbidden(response, before)
    override = {"orgRoles": [{"orgId": world.acme.pk, "role": "admin"}]}
    _assert_forbidden(api.patch(f"/me/tokens/{token.pk}", token=raw, body=override), before)
    assert api.patch(f"/orgs/{world.acme.pk}", token=raw, body={"name": "Pwned"}).status_code == 403
    # Lowering itself or renaming is fine.
    response = api.patch(f"/me/tokens/{token.pk}", token=raw, body={"defaultRole": "none"})
    assert response.status_code == 200 and response.json()["defaultRole"] == "none"


def test_a_patch_only_token_cannot_raise_or_reactivate_a_broader_token(api, world):
    victim, _ = _token(world.user, ["all.User"], default_role="view")
    _, raw = _token(world.user, ["userApiToken.patch"])
    before = _snapshot()
    url = f"/me/tokens/{victim.pk}"
    _assert_forbidden(api.patch(url, token=raw, body={"defaultRole": "admin"}), before)
    _assert_forbidden(api.patch(url, token=raw, body={"defaultRole": "none"}), before)
    # What adds no power stays allowed: renaming and deactivating.
    assert api.patch(url, token=raw, body={"name": "renamed"}).status_code == 200
    assert api.patch(url, token=raw, body={"status": "inactive"}).status_code == 200
    before = _snapshot()
    _assert_forbidden(api.patch(url, token=raw, body={"status": "active"}), before)


def test_a_token_cannot_raise_an_oauth_token_past_its_own_cap(api, world):
    _, grant = make_oauth_bearer(world.user, ["all.Organization.bounded"], default_role="view")
    _, narrow = _token(world.user, ["userOauthToken.patch"])
    _, capped = _token(world.user, ["all.User"], default_role="view")
    before = _snapshot()
    url = f"/me/oauth-tokens/{grant.pk}"
    _assert_forbidden(api.patch(url, token=narrow, body={"defaultRole": "admin"}), before)
    _assert_forbidden(api.patch(url, token=capped, body={"defaultRole": "admin"}), before)
    _, broad = _token(world.user, ["all.User"], default_role="edit")
    response = api.patch(url, token=broad, body={"defaultRole": "edit"})
    assert response.status_code == 200 and response.json()["defaultRole"] == "edit"


# --- Scope coverage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "wanted", "covered"),
    [
        (["all.User"], "all.Application.read", True),
        (["all.User"], "all.Organization.bounded", True),
        (["all.User"], "userApiTokens.post", True),
        (["all.User"], "all.Instance", False),
        (["all.User.bounded"], "userApiTokens.post", False),
        (["all.User.bounded"], "all.Application.bounded", True),
        (["all.User.bounded"], "all.User", False),
        (["all.User.read"], "all.User.bounded", False),
        (["all.User.read"], "only.User.read", True),
        (["all.User.read"], "userApiTokens.get", True),
        (["all.User.read"], "devices.post", False),
        (["all.Organization"], "only.User", False),
        (["all.Organization"], "only.Organization.read", True),
        (["all.Organization.read"], "all.Application.read", True),
        (["all.Application"], "all.Organization.read", False),
        (["all.Application"], "applications.get", False),
        (["all.Application"], "device.*", True),
        (["all.Application.bounded"], "applicationApiTokens.*", False),
        (["all.Application.bounded"], "device.*", True),
        (["only.User.read"], "all.User.read", False),
        (["only.User"], "me.*", True),
        (["only.User"], "org.get", False),
        (["userApiToken.*"], "userApiToken.get", True),
        (["userApiToken.get"], "userApiToken.*", False),
        (["userApiTokens.post"], "userApiTokens.get", False),
        (["all.Device"], "devices.get", True),
        (["all.Device"], "application.get", False),
    ],
)
def test_scope_coverage_follows_the_reference(held, wanted, covered):
    assert scope_covers(held, wanted) is covered


def test_every_scope_covers_itself_and_all_user_covers_every_user_level_scope():
    for scope in API_TOKEN_SCOPES:
        assert scope_covers([scope], scope)
    assert not [
        s
        for s in API_TOKEN_SCOPES
        if not s.startswith(("all.Instance", "instance")) and not scope_covers(["all.User"], s)
    ]


# --- Resource lists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "all.Application",
        "all.Application.read",
        "all.Application.bounded",
        "all.Application.cli",
        "all.User.cli",
    ],
)
def test_application_level_scopes_cannot_list_applications(api, world, scope):
    _, raw = _token(world.user, [scope])
    response = api.get("/applications", token=raw)
    assert response.status_code == 403


def test_the_application_list_sorts_by_owner(api, world):
    sandbox_app = ApplicationFactory(organization=None, sandbox_user=world.user, name="Sandbox")
    other = ApplicationFactory(organization=world.globex, name="Globex app")
    api.client.force_login(world.user)
    ids = {}
    for direction in ("asc", "desc"):
        response = api.get(f"/applications?sortField=ownerId&sortDirection={direction}")
        assert response.status_code == 200, response.content
        ids[direction] = [item["ownerId"] for item in response.json()["items"]]
    expected = sorted([world.acme.pk, world.globex.pk, world.user.pk])
    assert ids["asc"] == expected and ids["desc"] == expected[::-1]
    assert {sandbox_app.pk, other.pk} <= {i["id"] for i in api.get("/applications").json()["items"]}


# --- The code exchange never reactivates ---------------------------------------------------------


def test_exchanging_a_code_of_a_deactivated_pending_token_is_invalid_grant(api, client, world):
    client_app = OAuthClientFactory(redirect_uris=["https://client.example/callback"])
    verifier, challenge = pkce_pair()
    query = consent(logged_in(world.user), authorize_params(client_app, challenge))
    grant = OAuthToken.objects.get(user=world.user)
    api.client.force_login(world.user)
    response = api.patch(f"/me/oauth-tokens/{grant.pk}", body={"status": "inactive"})
    assert response.status_code == 200
    result = exchange(client, client_app, query["code"], verifier)
    assert result["status"] == 400 and result["body"]["error"] == "invalid_grant"
    grant.refresh_from_db()
    assert grant.status == TokenStatus.INACTIVE
    assert grant.authorization_status == "pending"
    assert not grant.access_tokens.exists()
