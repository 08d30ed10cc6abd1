"""The caller's effective role (the user's real role capped by the token) decides every read and
write on organizations, applications and application tokens; the Sandbox is the user's own."""

import pytest

from accounts.roles import ROLE_ORDER
from tests.factories import ApplicationFactory, MembershipFactory, UserFactory
from tokens.models import ApiToken

# operation -> (method, path, body, minimum effective role, success status)
OPERATIONS = {
    "org.get": ("GET", "/orgs/{org}", None, "view", 200),
    "org.patch": ("PATCH", "/orgs/{org}", {"name": "renamed"}, "admin", 200),
    "application.get": ("GET", "/applications/{app}", None, "view", 200),
    "application.patch": ("PATCH", "/applications/{app}", {"name": "renamed"}, "collaborate", 200),
    "applicationApiTokens.get": ("GET", "/applications/{app}/tokens", None, "view", 200),
    "applicationApiTokens.post": ("POST", "/applications/{app}/tokens", {"name": "t"}, "edit", 201),
}


def rank(role: str) -> int:
    return ROLE_ORDER.index(role)


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("user_role", ROLE_ORDER)
def test_role_matrix(api, db, api_bearer, operation, user_role):
    method, template, body, minimum, ok = OPERATIONS[operation]
    user = UserFactory()
    membership = MembershipFactory(user=user, role=user_role)
    org, app = membership.organization, ApplicationFactory(organization=membership.organization)
    path = template.format(org=org.pk, app=app.pk)
    for cap in ROLE_ORDER:
        raw = api_bearer(user, ["all.User"], default_role=cap)
        before = (org.name, app.name, ApiToken.objects.filter(application=app).count())
        response = api.call(method, path, token=raw, body=body)
        effective = min(rank(user_role), rank(cap))
        if user_role == "none":
            expected = 404  # the user cannot see it at all
        elif effective >= rank(minimum):
            expected = ok
        else:
            expected = 403
        assert response.status_code == expected, (user_role, cap, response.json())
        if expected != ok:
            org.refresh_from_db()
            app.refresh_from_db()
            assert (org.name, app.name, ApiToken.objects.filter(application=app).count()) == before
        else:
            org.name, app.name = "Org", "App"
            org.save()
            app.save()


def test_sandbox_application_is_the_users_own_and_capped_by_the_sandbox_entry(api, db, api_bearer):
    user = UserFactory()
    app = ApplicationFactory(organization=None, sandbox_user=user)
    stranger = api_bearer(UserFactory(), ["all.User"])
    assert api.get(f"/applications/{app.pk}", token=stranger).status_code == 404
    capped = api_bearer(user, ["all.User"], org_roles=[{"orgId": "sandbox", "role": "view"}])
    assert api.get(f"/applications/{app.pk}", token=capped).status_code == 200
    assert (
        api.post(f"/applications/{app.pk}/tokens", token=capped, body={"name": "t"}).status_code
        == 403
    )
    full = api_bearer(user, ["all.User"])
    assert (
        api.post(f"/applications/{app.pk}/tokens", token=full, body={"name": "t"}).status_code
        == 201
    )


def test_session_user_has_their_real_role(api, db):
    user = UserFactory()
    membership = MembershipFactory(user=user, role="collaborate")
    app = ApplicationFactory(organization=membership.organization)
    api.client.force_login(user)
    assert api.patch(f"/applications/{app.pk}", body={"name": "ok"}).status_code == 200
    assert api.post(f"/applications/{app.pk}/tokens", body={"name": "t"}).status_code == 403
    assert api.patch(f"/orgs/{membership.organization.pk}", body={"name": "x"}).status_code == 403


def test_lowering_the_users_role_lowers_the_token(api, db, api_bearer):
    user = UserFactory()
    membership = MembershipFactory(user=user, role="edit")
    app = ApplicationFactory(organization=membership.organization)
    raw = api_bearer(user, ["all.User"])
    assert (
        api.post(f"/applications/{app.pk}/tokens", token=raw, body={"name": "a"}).status_code == 201
    )
    membership.role = "view"
    membership.save()
    assert (
        api.post(f"/applications/{app.pk}/tokens", token=raw, body={"name": "b"}).status_code == 403
    )
    assert api.get(f"/applications/{app.pk}/tokens", token=raw).status_code == 200
