"""/api/me, /api/orgs, /api/applications: the Losant-shaped resources the scopes and caps guard."""

from datetime import UTC, datetime

import pytest

from accounts.models import Application, Organization
from tests.factories import (
    ApplicationFactory,
    ApplicationRoleOverrideFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)


def iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@pytest.fixture
def world(db):
    """A user who administers Acme (2 apps), views Globex (1 app), has a Sandbox app, and is
    not in Initech."""
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    acme = OrganizationFactory(name="Acme", description="robots")
    globex = OrganizationFactory(name="Globex")
    initech = OrganizationFactory(name="Initech")
    MembershipFactory(user=user, organization=acme, role="admin")
    MembershipFactory(user=user, organization=globex, role="view")
    MembershipFactory(user=UserFactory(), organization=acme, role="edit")
    return {
        "user": user,
        "acme": acme,
        "globex": globex,
        "initech": initech,
        "acme_app": ApplicationFactory(organization=acme, name="Acme fleet"),
        "acme_app2": ApplicationFactory(organization=acme, name="Acme labs"),
        "globex_app": ApplicationFactory(organization=globex, name="Globex grid"),
        "initech_app": ApplicationFactory(organization=initech, name="Initech tps"),
        "sandbox_app": ApplicationFactory(organization=None, sandbox_user=user, name="My sandbox"),
    }


def org_body(org: Organization, app_count: int, member_count: int) -> dict:
    org.refresh_from_db()
    return {
        "id": org.pk,
        "orgId": org.pk,
        "name": org.name,
        "description": org.description,
        "creationDate": iso(org.creation_date),
        "lastUpdated": iso(org.last_updated),
        "summary": {"appCount": app_count, "memberCount": member_count},
    }


def app_body(app: Application) -> dict:
    app.refresh_from_db()
    body = {
        "id": app.pk,
        "applicationId": app.pk,
        "name": app.name,
        "description": app.description,
        "ownerId": app.organization_id or app.sandbox_user_id,
        "ownerType": "organization" if app.organization_id else "user",
        "creationDate": iso(app.creation_date),
        "lastUpdated": iso(app.last_updated),
    }
    if app.organization_id:
        body["organizationName"] = app.organization.name
    return body


def test_me_for_only_user_read(api, world, oauth_bearer):
    user = world["user"]
    raw = oauth_bearer(user, ["only.User.read"])
    response = api.get("/me", token=raw)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "userId": user.pk,
        "email": user.email,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "creationDate": iso(user.date_joined),
        "summary": {"appCount": 1, "orgCount": 2},
    }


def test_orgs_list_and_get(api, world, oauth_bearer):
    raw = oauth_bearer(world["user"], ["only.Organization.read"])
    response = api.get("/orgs", token=raw)
    assert response.status_code == 200
    assert response.json() == {
        "items": [org_body(world["acme"], 2, 2), org_body(world["globex"], 1, 1)],
        "count": 2,
        "totalCount": 2,
        "perPage": 100,
        "page": 0,
        "sortField": "name",
        "sortDirection": "asc",
        "filter": "",
        "filterField": "",
    }
    response = api.get(f"/orgs/{world['acme'].pk}", token=raw)
    assert response.json() == org_body(world["acme"], 2, 2)
    response = api.get(f"/orgs/{world['initech'].pk}", token=raw)
    assert response.status_code == 404
    assert response.json() == {"type": "NotFound", "message": "Organization was not found"}


def test_only_organization_read_lists_applications_but_cannot_open_one(api, world, oauth_bearer):
    raw = oauth_bearer(world["user"], ["only.Organization.read"])
    response = api.get("/applications", token=raw)
    assert response.status_code == 200
    apps = ["acme_app", "acme_app2", "globex_app", "sandbox_app"]
    assert response.json() == {
        "items": [app_body(world[name]) for name in apps],
        "count": 4,
        "totalCount": 4,
        "perPage": 100,
        "page": 0,
        "sortField": "name",
        "sortDirection": "asc",
        "filter": "",
        "filterField": "",
    }
    response = api.get(f"/applications/{world['acme_app'].pk}", token=raw)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_application_bounded_with_view_reads_but_cannot_rename(api, world, oauth_bearer):
    app = world["acme_app"]
    raw = oauth_bearer(world["user"], ["all.Application.bounded"], default_role="view")
    response = api.get(f"/applications/{app.pk}", token=raw)
    assert response.status_code == 200
    assert response.json() == app_body(app)
    response = api.patch(f"/applications/{app.pk}", token=raw, body={"name": "Renamed"})
    assert response.status_code == 403
    assert response.json() == {
        "type": "Forbidden",
        "message": "Insufficient permissions for this operation",
    }
    app.refresh_from_db()
    assert app.name == "Acme fleet"


def test_application_bounded_with_collaborate_renames(api, world, oauth_bearer):
    app = world["acme_app"]
    raw = oauth_bearer(world["user"], ["all.Application.bounded"], default_role="collaborate")
    response = api.patch(
        f"/applications/{app.pk}", token=raw, body={"name": "Renamed", "description": "new"}
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.name, app.description) == ("Renamed", "new")
    assert response.json() == app_body(app)


def test_users_real_role_caps_the_token(api, world, oauth_bearer):
    """Globex: the user is a viewer, so even an admin-capped token cannot rename its app."""
    raw = oauth_bearer(world["user"], ["all.Organization.bounded"], default_role="admin")
    app = world["globex_app"]
    assert api.patch(f"/applications/{app.pk}", token=raw, body={"name": "x"}).status_code == 403
    assert api.get(f"/applications/{app.pk}", token=raw).status_code == 200
    assert api.get(f"/applications/{world['initech_app'].pk}", token=raw).status_code == 404


def test_organization_changed_only_by_an_effective_admin(api, world, oauth_bearer):
    acme = world["acme"]
    edit_capped = oauth_bearer(world["user"], ["all.Organization.bounded"], default_role="edit")
    response = api.patch(f"/orgs/{acme.pk}", token=edit_capped, body={"name": "Hacked"})
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"
    admin = oauth_bearer(world["user"], ["only.Organization.bounded"], default_role="admin")
    response = api.patch(
        f"/orgs/{acme.pk}", token=admin, body={"name": "Acme Inc", "description": ""}
    )
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.name, acme.description) == ("Acme Inc", "")
    assert response.json() == org_body(acme, 2, 2)
    # Globex: the user is only a viewer there.
    globex = world["globex"]
    assert api.patch(f"/orgs/{globex.pk}", token=admin, body={"name": "x"}).status_code == 403
    # .read never writes.
    reader = oauth_bearer(world["user"], ["all.Organization.read"], default_role="admin")
    response = api.patch(f"/orgs/{acme.pk}", token=reader, body={"name": "x"})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_per_org_and_per_app_caps(api, world, oauth_bearer):
    acme, app, app2 = world["acme"], world["acme_app"], world["acme_app2"]
    raw = oauth_bearer(
        world["user"],
        ["all.Organization.bounded"],
        default_role="none",
        org_roles=[
            {
                "orgId": acme.pk,
                "role": "edit",
                "applicationRoles": [{"resourceId": app2.pk, "role": "none"}],
            }
        ],
    )
    listed = [item["id"] for item in api.get("/applications", token=raw).json()["items"]]
    assert listed == [app.pk]  # Globex and the Sandbox are capped at none, app2 overridden
    assert [o["id"] for o in api.get("/orgs", token=raw).json()["items"]] == [acme.pk]
    assert api.patch(f"/applications/{app.pk}", token=raw, body={"name": "ok"}).status_code == 200
    assert api.get(f"/applications/{app2.pk}", token=raw).status_code == 403
    assert api.get(f"/applications/{world['sandbox_app'].pk}", token=raw).status_code == 403


def test_member_application_override_is_respected(api, world, oauth_bearer):
    globex, app = world["globex"], world["globex_app"]
    membership = globex.memberships.get(user=world["user"])
    membership.role = "none"
    membership.save()
    ApplicationRoleOverrideFactory(membership=membership, application=app, role="collaborate")
    raw = oauth_bearer(world["user"], ["all.Application.bounded"], default_role="admin")
    assert api.patch(f"/applications/{app.pk}", token=raw, body={"name": "ok"}).status_code == 200
    everything = oauth_bearer(world["user"], ["all.Organization.read"])
    assert globex.pk not in [o["id"] for o in api.get("/orgs", token=everything).json()["items"]]
    listed = [a["id"] for a in api.get("/applications", token=everything).json()["items"]]
    assert app.pk in listed


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "x" * 256}, {"ownerId": "a" * 24}, {"name": 5}, {"name": None}]
)
def test_patch_validation_changes_nothing(api, world, oauth_bearer, body):
    app = world["acme_app"]
    raw = oauth_bearer(world["user"], ["all.Application.bounded"])
    response = api.patch(f"/applications/{app.pk}", token=raw, body=body)
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    app.refresh_from_db()
    assert app.name == "Acme fleet"
    response = api.patch(
        f"/orgs/{world['acme'].pk}",
        token=oauth_bearer(world["user"], ["all.Organization.bounded"]),
        body=body,
    )
    assert response.status_code == 400
    assert Organization.objects.get(pk=world["acme"].pk).name == "Acme"
