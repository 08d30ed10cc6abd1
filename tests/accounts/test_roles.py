import pytest

from accounts.models import ApplicationRoleOverride, Membership
from accounts.roles import (
    ROLE_ORDER,
    RoleCap,
    effective_application_role,
    effective_organization_role,
    lower_role,
    role_at_least,
)
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory, UserFactory


def test_role_order_is_none_view_collaborate_edit_admin():
    assert ROLE_ORDER == ("none", "view", "collaborate", "edit", "admin")
    assert role_at_least("edit", "collaborate")
    assert not role_at_least("view", "collaborate")
    assert lower_role("admin", "view") == "view"
    assert lower_role("none", "edit") == "none"


# (user's org role, user's per-app override, token cap, expected org role, expected app role)
CASES = [
    ("admin", None, None, "admin", "admin"),
    ("view", None, RoleCap("admin"), "view", "view"),
    ("admin", None, RoleCap("view"), "view", "view"),
    ("admin", None, RoleCap("view", [{"orgId": "ORG", "role": "edit"}]), "edit", "edit"),
    (
        "admin",
        None,
        RoleCap(
            "admin",
            [
                {
                    "orgId": "ORG",
                    "role": "collaborate",
                    "applicationRoles": [{"resourceId": "APP", "role": "none"}],
                }
            ],
        ),
        "collaborate",
        "none",
    ),
    (
        "view",
        None,
        RoleCap(
            "none",
            [
                {
                    "orgId": "ORG",
                    "role": "none",
                    "applicationRoles": [{"resourceId": "APP", "role": "collaborate"}],
                }
            ],
        ),
        "none",
        "view",
    ),
    ("admin", "view", None, "admin", "view"),
    ("view", "collaborate", RoleCap("admin"), "view", "collaborate"),
    ("edit", "none", RoleCap("admin"), "edit", "none"),
    (
        "collaborate",
        None,
        RoleCap("edit", [{"orgId": "sandbox", "role": "none"}]),
        "collaborate",
        "collaborate",
    ),
    (None, None, RoleCap("admin"), "none", "none"),
    (None, None, None, "none", "none"),
]


def _resolve(cap, org_id, app_id):
    if cap is None:
        return None
    raw = repr(cap.org_roles).replace("ORG", org_id).replace("APP", app_id)
    return RoleCap(cap.default_role, eval(raw))  # noqa: S307 - test-local literal


@pytest.mark.parametrize(("org_role", "app_override", "cap", "want_org", "want_app"), CASES)
def test_effective_role_table(db, org_role, app_override, cap, want_org, want_app):
    user = UserFactory()
    org = OrganizationFactory()
    app = ApplicationFactory(organization=org)
    if org_role is not None:
        membership = MembershipFactory(user=user, organization=org, role=org_role)
        if app_override is not None:
            ApplicationRoleOverride.objects.create(
                membership=membership, application=app, role=app_override
            )
    resolved = _resolve(cap, org.id, app.id)
    assert effective_organization_role(user=user, organization_id=org.id, cap=resolved) == want_org
    assert effective_application_role(user=user, application=app, cap=resolved) == want_app


@pytest.mark.parametrize(
    ("cap", "want"),
    [
        (None, "admin"),
        (RoleCap("view"), "view"),
        (RoleCap("none", [{"orgId": "sandbox", "role": "edit"}]), "edit"),
        (
            RoleCap(
                "admin",
                [
                    {
                        "orgId": "sandbox",
                        "role": "collaborate",
                        "applicationRoles": [{"resourceId": "APP", "role": "view"}],
                    }
                ],
            ),
            "view",
        ),
    ],
)
def test_sandbox_application_role_is_admin_capped_by_the_sandbox_entry(db, cap, want):
    user = UserFactory()
    app = ApplicationFactory(organization=None, sandbox_user=user)
    assert (
        effective_application_role(user=user, application=app, cap=_resolve(cap, "x", app.id))
        == want
    )


def test_someone_elses_sandbox_application_is_none(db):
    owner, other = UserFactory(), UserFactory()
    app = ApplicationFactory(organization=None, sandbox_user=owner)
    assert effective_application_role(user=other, application=app, cap=None) == "none"


def test_lowering_a_members_role_lowers_the_token_at_once(db):
    user = UserFactory()
    org = OrganizationFactory()
    app = ApplicationFactory(organization=org)
    MembershipFactory(user=user, organization=org, role="admin")
    cap = RoleCap("edit")
    assert effective_application_role(user=user, application=app, cap=cap) == "edit"
    Membership.objects.filter(user=user, organization=org).update(role="view")
    assert effective_application_role(user=user, application=app, cap=cap) == "view"
