"""Application → API Tokens: readable with the view role, changeable with edit (reference §1.4)."""

import pytest

from accounts.models import ApplicationRoleOverride, Membership
from accounts.roles import Role
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory
from tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_app(user):
    org = OrganizationFactory(name="Acme")
    return org, ApplicationFactory(name="Line", organization=org)


def _member(user, org, role):
    return MembershipFactory(user=user, organization=org, role=role)


def _new(**overrides):
    data = {"name": "Gateway", "description": "", "scope_preset": "all.Application.read"}
    data.update({"custom_scopes": "", "expires": "never", "expiration_date": ""}, **overrides)
    return data


def test_editor_creates_an_application_token_and_sees_its_secret_once(
    signed_in, user, org_app, api_token_factory
):
    org, app = org_app
    _member(user, org, Role.EDIT)
    page = signed_in.get(f"/applications/{app.id}/tokens").content.decode()
    assert "Add Application Token" in page
    posted = signed_in.post(f"/applications/{app.id}/tokens/new", _new())
    token = ApiToken.objects.get(application=app)
    assert posted.status_code == 302
    assert posted["Location"] == f"/applications/{app.id}/tokens/{token.id}/created"
    response = signed_in.get(posted["Location"])
    secret = response.context["secret"]
    assert secret.startswith("aat_")
    assert secret not in signed_in.get(posted["Location"], follow=True).content.decode()
    assert ApiToken.objects.filter(application=app).count() == 1
    assert token.scope == ["all.Application.read"] and token.owner_type == "application"
    assert (
        "Token Permission Cap"
        not in signed_in.get(f"/applications/{app.id}/tokens/{token.id}").content.decode()
    )


def test_application_token_refuses_user_scopes(signed_in, user, org_app):
    org, app = org_app
    _member(user, org, Role.ADMIN)
    response = signed_in.post(
        f"/applications/{app.id}/tokens/new",
        _new(scope_preset="custom", custom_scopes="all.User"),
    )
    assert response.status_code == 400
    assert b"not an application scope" in response.content
    assert not ApiToken.objects.exists()


def test_viewer_reads_but_cannot_change(signed_in, user, org_app, api_token_factory):
    org, app = org_app
    _member(user, org, Role.VIEW)
    token = api_token_factory("Gateway", owner=app)
    html = signed_in.get(f"/applications/{app.id}/tokens").content.decode()
    assert "Gateway" in html and "Add Application Token" not in html
    assert "Delete Gateway" not in html and "disabled" in html
    detail = signed_in.get(f"/applications/{app.id}/tokens/{token.id}").content.decode()
    assert 'name="name"' not in detail and "Editor role" in detail
    base = f"/applications/{app.id}/tokens"
    assert signed_in.get(f"{base}/new").status_code == 403
    assert signed_in.post(f"{base}/new", _new()).status_code == 403
    assert (
        signed_in.post(f"{base}/{token.id}", {"name": "x", "status": "active"}).status_code == 403
    )
    assert signed_in.post(f"{base}/{token.id}/status", {"status": "inactive"}).status_code == 403
    assert signed_in.post(f"{base}/{token.id}/delete").status_code == 403
    token.refresh_from_db()
    assert (token.name, token.status) == ("Gateway", "active")
    assert ApiToken.objects.count() == 1


def test_collaborator_cannot_manage_tokens_but_sandbox_owner_can(signed_in, user, org_app, world):
    org, app = org_app
    _member(user, org, Role.COLLABORATE)
    assert signed_in.get(f"/applications/{app.id}/tokens/new").status_code == 403
    sandbox = world["sandbox_app"]
    assert signed_in.get(f"/applications/{sandbox.id}/tokens/new").status_code == 200


def test_non_member_and_none_role_get_404(signed_in, user, org_app, api_token_factory):
    org, app = org_app
    token = api_token_factory("Gateway", owner=app)
    assert signed_in.get(f"/applications/{app.id}/tokens").status_code == 404
    assert signed_in.get(f"/applications/{app.id}/tokens/{token.id}").status_code == 404
    membership = _member(user, org, Role.ADMIN)
    ApplicationRoleOverride.objects.create(membership=membership, application=app, role="none")
    assert signed_in.get(f"/applications/{app.id}/tokens").status_code == 404
    Membership.objects.all().delete()
    assert signed_in.get("/applications/doesnotexist/tokens").status_code == 404


def test_a_token_of_another_application_is_not_found_here(
    signed_in, user, org_app, api_token_factory
):
    org, app = org_app
    _member(user, org, Role.ADMIN)
    other = ApplicationFactory(name="Other", organization=org)
    token = api_token_factory("elsewhere", owner=other)
    assert signed_in.get(f"/applications/{app.id}/tokens/{token.id}").status_code == 404
    assert signed_in.post(f"/applications/{app.id}/tokens/{token.id}/delete").status_code == 404
    assert ApiToken.objects.filter(pk=token.id).exists()


def test_editor_edits_toggles_and_deletes(signed_in, user, org_app, api_token_factory, htmx):
    org, app = org_app
    _member(user, org, Role.EDIT)
    token = api_token_factory("Gateway", owner=app)
    base = f"/applications/{app.id}/tokens/{token.id}"
    response = signed_in.post(base, {"name": "Gateway 2", "description": "", "status": "inactive"})
    assert response.status_code == 302 and response["Location"] == base
    token.refresh_from_db()
    assert (token.name, token.status) == ("Gateway 2", "inactive")
    row = signed_in.post(f"{base}/status", {"status": "active"}, **htmx)
    assert row.status_code == 200 and 'aria-checked="true"' in row.content.decode()
    confirm = signed_in.get(f"{base}/delete")
    assert confirm.status_code == 200 and b"Delete Application API token" in confirm.content
    assert signed_in.post(f"{base}/delete").status_code == 302
    assert not ApiToken.objects.filter(pk=token.id).exists()
