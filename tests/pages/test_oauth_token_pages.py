"""My Account → OAuth Tokens: list, toggle, detail/edit, delete (user-oauth-tokens-guide.txt)."""

import pytest
from django.utils import timezone

from accounts.roles import Role
from tests.factories import OAuthClientFactory, UserFactory
from tokens.models import AuthorizationStatus, OAuthToken, TokenEvent

pytestmark = pytest.mark.django_db


def _form(token, **overrides):
    data = {
        "name": token.name,
        "description": token.description,
        "status": token.status,
        "default_role": token.default_role,
    }
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------------


def test_list_shows_name_client_role_created_status_and_pending_label(
    signed_in, world, oauth_token_factory
):
    client = OAuthClientFactory(client_name="Claude", logo_uri="https://claude.example/logo.png")
    oauth_token_factory("Work laptop", client=client, default_role=Role.EDIT)
    oauth_token_factory("Half done", authorization_status=AuthorizationStatus.PENDING)
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert "Work laptop" in html and "Claude" in html and "Editor" in html
    assert 'src="https://claude.example/logo.png"' in html
    assert html.count('class="badge pending">Pending<') == 1
    assert 'role="switch"' in html and 'aria-checked="true"' in html
    assert "Delete Work laptop" in html


def test_list_never_shows_another_users_tokens(signed_in, world, oauth_token_factory):
    oauth_token_factory("Mine")
    oauth_token_factory("Theirs", owner=UserFactory())
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert "Mine" in html and "Theirs" not in html


def test_empty_list_explains_how_tokens_appear(signed_in, world):
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert "No OAuth tokens yet" in html and "consent screen" in html


def test_unsafe_client_logo_is_not_rendered(signed_in, world, oauth_token_factory):
    evil = OAuthClientFactory(client_name="Evil", logo_uri="javascript:alert(1)")
    oauth_token_factory("x", client=evil)
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert "javascript:" not in html


def test_list_pages_sorts_and_filters_with_the_api_glob(signed_in, world, oauth_token_factory):
    for name in ["alpha one", "alpha two", "beta", "al%pha"]:
        oauth_token_factory(name)
    html = signed_in.get("/me/oauth-tokens?filter=alpha*&sortDirection=desc").content.decode()
    assert html.index("alpha two") < html.index("alpha one")
    assert "beta" not in html and "al%pha" not in html
    html = signed_in.get("/me/oauth-tokens?filter=al%25pha").content.decode()
    assert "al%pha" in html and "alpha one" not in html  # % is literal, as in the API
    page = signed_in.get("/me/oauth-tokens?perPage=2&page=1").content.decode()
    assert "Showing 3–4 of 4" in page and "Page 2 of 2" in page
    assert 'rel="prev"' in page and 'rel="next"' not in page


def test_invalid_list_parameters_are_a_400_with_the_reason(signed_in, world, oauth_token_factory):
    oauth_token_factory("alpha")
    response = signed_in.get("/me/oauth-tokens?sortField=secret")
    assert response.status_code == 400
    assert b"sortField must be one of" in response.content
    assert b"alpha" not in response.content.split(b'id="token-table"')[1]
    assert signed_in.get("/me/oauth-tokens?perPage=abc").status_code == 400


def test_htmx_list_request_returns_only_the_table_fragment(
    signed_in, world, htmx, oauth_token_factory
):
    oauth_token_factory("alpha")
    html = signed_in.get("/me/oauth-tokens?sortField=creationDate", **htmx).content.decode()
    assert html.lstrip().startswith('<div id="token-table">')
    assert "<html" not in html and "alpha" in html


# --- toggle -----------------------------------------------------------------------------------


def test_htmx_toggle_returns_the_row_and_deactivates(signed_in, world, htmx, oauth_token_factory):
    token = oauth_token_factory()
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/status", {"status": "inactive"}, **htmx)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="row-{token.id}" data-usable="false">')
    assert 'aria-checked="false"' in html and 'name="status" value="active"' in html
    token.refresh_from_db()
    assert token.status == "inactive"
    assert TokenEvent.objects.filter(token_id=token.id, kind="status_changed").count() == 1


def test_plain_form_toggle_redirects_back_to_the_list(signed_in, world, oauth_token_factory):
    token = oauth_token_factory(status="inactive")
    response = signed_in.post(
        f"/me/oauth-tokens/{token.id}/status",
        {"status": "active", "next": "/me/oauth-tokens?page=0"},
    )
    assert response.status_code == 302 and response["Location"] == "/me/oauth-tokens?page=0"
    token.refresh_from_db()
    assert token.status == "active"


def test_toggle_refuses_offsite_next(signed_in, world, oauth_token_factory):
    token = oauth_token_factory()
    response = signed_in.post(
        f"/me/oauth-tokens/{token.id}/status",
        {"status": "inactive", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/me/oauth-tokens"


def test_toggle_with_invalid_status_changes_nothing(signed_in, world, htmx, oauth_token_factory):
    token = oauth_token_factory()
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/status", {"status": "maybe"}, **htmx)
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    token.refresh_from_db()
    assert token.status == "active"


def test_expired_token_cannot_be_toggled(signed_in, world, htmx, oauth_token_factory, expired):
    token = oauth_token_factory(expiration_date=expired)
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/status", {"status": "inactive"}, **htmx)
    assert response.status_code == 400
    assert b"expired" in response.content
    token.refresh_from_db()
    assert token.status == "active"


def test_another_users_token_is_not_found_for_every_action(signed_in, world, oauth_token_factory):
    token = oauth_token_factory(owner=UserFactory())
    base = f"/me/oauth-tokens/{token.id}"
    assert signed_in.get(base).status_code == 404
    assert signed_in.post(base, _form(token, name="hijack")).status_code == 404
    assert signed_in.post(f"{base}/status", {"status": "inactive"}).status_code == 404
    assert signed_in.post(f"{base}/delete").status_code == 404
    token.refresh_from_db()
    assert token.name == "Claude Desktop" and token.status == "active"


def test_toggle_needs_post(signed_in, world, oauth_token_factory):
    token = oauth_token_factory()
    assert signed_in.get(f"/me/oauth-tokens/{token.id}/status").status_code == 405


# --- delete -----------------------------------------------------------------------------------


def test_htmx_delete_asks_in_the_row_then_deletes(signed_in, world, htmx, oauth_token_factory):
    token = oauth_token_factory("Old laptop")
    confirm = signed_in.get(f"/me/oauth-tokens/{token.id}/delete?next=/me/oauth-tokens", **htmx)
    html = confirm.content.decode()
    assert html.lstrip().startswith('<tr class="confirm-row">')
    assert "Delete “Old laptop”?" in html and "autofocus" in html
    assert OAuthToken.objects.filter(pk=token.id).exists()  # asking changes nothing
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/delete", **htmx)
    assert response.status_code == 200
    assert "“Old laptop” deleted" in response.content.decode()
    assert not OAuthToken.objects.filter(pk=token.id).exists()
    assert TokenEvent.objects.filter(token_id=token.id, kind="deleted").exists()


def test_plain_delete_has_a_confirmation_page(signed_in, world, oauth_token_factory):
    token = oauth_token_factory("Old laptop")
    page = signed_in.get(f"/me/oauth-tokens/{token.id}/delete?from=detail")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete OAuth token “Old laptop”?" in html
    assert f'href="/me/oauth-tokens/{token.id}">Cancel' in html.replace('class="button" ', "")
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/delete")
    assert response.status_code == 302 and response["Location"] == "/me/oauth-tokens"
    assert not OAuthToken.objects.filter(pk=token.id).exists()


# --- detail -----------------------------------------------------------------------------------


def test_detail_shows_client_info_scopes_and_roles(signed_in, world, oauth_token_factory):
    client = OAuthClientFactory(client_name="Claude", client_uri="https://claude.example/")
    token = oauth_token_factory(client=client, resource=["http://testserver/api"])
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    assert 'href="https://claude.example/"' in html and token.id in html
    assert "all.Application.read" in html and "Read-only access to all application data" in html
    assert "only.User.read" in html and "http://testserver/api" in html
    assert "Never" in html  # expiration
    assert "Per-Organization Overrides" in html and "Per-Application Overrides" in html
    assert world["org"].name in html and "Sandbox" in html and "Alpha" in html
    assert "Delete OAuth Token" in html
    # Scope, expiration and client are shown, not editable.
    assert 'name="scope' not in html and 'name="expiration' not in html


def test_detail_edit_saves_name_status_and_caps(signed_in, world, oauth_token_factory):
    token = oauth_token_factory()
    org, alpha = world["org"], world["apps"][0]
    data = _form(
        token,
        name="Renamed",
        description="for the demo",
        status="inactive",
        default_role="collaborate",
        **{f"org_{org.id}": "view", f"app_{alpha.id}": "none"},
    )
    response = signed_in.post(f"/me/oauth-tokens/{token.id}", data)
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.description, token.status) == ("Renamed", "for the demo", "inactive")
    assert token.default_role == "collaborate"
    assert token.org_roles == [
        {
            "orgId": org.id,
            "role": "view",
            "applicationRoles": [{"resourceId": alpha.id, "role": "none"}],
        }
    ]
    kinds = set(TokenEvent.objects.filter(token_id=token.id).values_list("kind", flat=True))
    assert {"status_changed", "caps_changed", "updated"} <= kinds


def test_app_override_without_org_override_uses_the_default_and_round_trips(
    signed_in, world, oauth_token_factory
):
    token = oauth_token_factory()
    sandy = world["sandbox_app"]
    signed_in.post(
        f"/me/oauth-tokens/{token.id}",
        _form(token, default_role="edit", **{f"app_{sandy.id}": "view"}),
    )
    token.refresh_from_db()
    assert token.org_roles == [
        {
            "orgId": "sandbox",
            "role": "edit",
            "applicationRoles": [{"resourceId": sandy.id, "role": "view"}],
        }
    ]
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    # The Sandbox row reads "Use default" again, and the app override is selected.
    sandbox_select = html.split('name="org_sandbox"')[1].split("</select>")[0]
    assert '<option value="" selected>Use default</option>' in sandbox_select
    app_select = html.split(f'name="app_{sandy.id}"')[1].split("</select>")[0]
    assert '<option value="view" selected>Viewer</option>' in app_select


def test_effective_role_is_the_lower_of_user_role_and_cap(
    signed_in, user, organization, member_factory, oauth_token_factory
):
    member_factory(user, organization, role=Role.VIEW)
    token = oauth_token_factory(default_role=Role.ADMIN)
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    row = html.split(f'<th scope="row" data-label="Organization">{organization.name}</th>')[1]
    row = row.split("</tr>")[0]
    assert '<td data-label="Your role">Viewer</td>' in row
    assert "<strong>Viewer</strong>" in row  # admin cap, viewer user: viewer


def test_invalid_edit_shows_errors_in_place_and_changes_nothing(
    signed_in, world, htmx, oauth_token_factory
):
    token = oauth_token_factory()
    before = OAuthToken.objects.filter(pk=token.pk).values().get()
    for bad in [
        {"name": "   "},
        {"name": "x" * 256},
        {"status": "paused"},
        {"default_role": "owner"},
        {f"org_{world['org'].id}": "superuser"},
        {f"app_{world['apps'][0].id}": "edit"},  # app overrides stop at collaborate
    ]:
        response = signed_in.post(f"/me/oauth-tokens/{token.id}", _form(token, **bad), **htmx)
        assert response.status_code == 400, bad
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="token-detail" data-usable=')
        assert 'class="error"' in html
    assert OAuthToken.objects.filter(pk=token.pk).values().get() == before


def test_htmx_edit_returns_the_detail_fragment_with_saved_values(
    signed_in, world, htmx, oauth_token_factory
):
    token = oauth_token_factory()
    response = signed_in.post(f"/me/oauth-tokens/{token.id}", _form(token, name="New"), **htmx)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="token-detail" data-usable="true">')
    assert "OAuth token saved." in html and 'value="New"' in html
    token.refresh_from_db()
    assert token.name == "New"


def test_expired_token_page_is_read_only(signed_in, world, oauth_token_factory, expired):
    token = oauth_token_factory(expiration_date=expired)
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    assert "read-only" in html
    assert 'name="name"' not in html and ">Save</button>" not in html
    assert "<select" not in html
    response = signed_in.post(f"/me/oauth-tokens/{token.id}", _form(token, name="Changed"))
    assert response.status_code == 400
    token.refresh_from_db()
    assert token.name == "Claude Desktop"


def test_pending_token_detail_explains_pending(signed_in, world, oauth_token_factory):
    token = oauth_token_factory(authorization_status=AuthorizationStatus.PENDING)
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    assert "Pending" in html and "24 hours" in html


def test_caps_preview_recomputes_effective_roles_without_saving(
    signed_in, world, htmx, oauth_token_factory
):
    token = oauth_token_factory(default_role=Role.ADMIN)
    data = _form(token, default_role="none")
    response = signed_in.post(f"/me/oauth-tokens/{token.id}/caps", data, **htmx)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<fieldset id="caps"')
    org_row = html.split(f'data-label="Organization">{world["org"].name}</th>')[1].split("</tr>")[0]
    assert "<strong>None</strong>" in org_row
    token.refresh_from_db()
    assert token.default_role == Role.ADMIN


def test_detail_shows_expiration_when_set(signed_in, world, oauth_token_factory):
    when = timezone.now() + timezone.timedelta(days=30)
    token = oauth_token_factory(expiration_date=when)
    html = signed_in.get(f"/me/oauth-tokens/{token.id}").content.decode()
    assert when.strftime("%b %-d, %Y") in html
