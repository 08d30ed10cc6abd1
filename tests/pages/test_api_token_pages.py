"""User API Tokens (My Account): list, Add User Token (secret shown once), detail, toggle, delete."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tokens.models import ApiToken, TokenEvent
from tokens.secrets import secret_digest

pytestmark = pytest.mark.django_db


def _new(**overrides):
    data = {
        "name": "Deploy script",
        "description": "",
        "scope_preset": "all.User.read",
        "custom_scopes": "",
        "expires": "never",
        "expiration_date": "",
        "default_role": "view",
    }
    data.update(overrides)
    return data


def test_list_shows_name_description_creator_expiry_and_add_button(
    signed_in, world, user, api_token_factory
):
    api_token_factory("CI", description="runs the tests")
    html = signed_in.get("/me/tokens").content.decode()
    assert "CI" in html and "runs the tests" in html and user.email in html and "Never" in html
    assert 'href="/me/tokens/new"' in html and "Add User Token" in html


def test_list_filters_on_status_like_the_api(signed_in, world, api_token_factory):
    api_token_factory("on")
    api_token_factory("off", status="inactive")
    html = signed_in.get("/me/tokens?filterField=status&filter=inact*").content.decode()
    assert ">off</a>" in html and ">on</a>" not in html


def test_add_user_token_shows_the_secret_once_and_stores_only_its_digest(signed_in, world, user):
    form = signed_in.get("/me/tokens/new").content.decode()
    assert "Token Permission Cap" in form and "Never expires" in form
    posted = signed_in.post("/me/tokens/new", _new(**{f"org_{world['org'].id}": "none"}))
    # Post/Redirect/Get: the POST answers a redirect to the one-time landing page.
    token = ApiToken.objects.get(user=user)
    assert posted.status_code == 302
    assert posted["Location"] == f"/me/tokens/{token.id}/created"
    assert "uat_" not in posted.content.decode()
    response = signed_in.get(posted["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("uat_")
    html = response.content.decode()
    assert f'value="{secret}"' in html
    assert "Copy this token now" in html and "data-copy" in html
    assert token.digest == secret_digest(secret)
    assert token.scope == ["all.User.read"] and token.default_role == "view"
    assert token.org_roles == [{"orgId": world["org"].id, "role": "none"}]
    assert token.creator_id == user.id and token.expiration_date is None
    # Never again: not on the detail page, not in the list.
    assert secret not in signed_in.get(f"/me/tokens/{token.id}").content.decode()
    assert secret not in signed_in.get("/me/tokens").content.decode()


def test_reloading_the_created_page_neither_creates_nor_reveals_again(signed_in, world, user):
    posted = signed_in.post("/me/tokens/new", _new())
    first = signed_in.get(posted["Location"])
    secret = first.context["secret"]
    again = signed_in.get(posted["Location"], follow=True)
    html = again.content.decode()
    token = ApiToken.objects.get(user=user)  # still exactly one
    assert again.redirect_chain == [(f"/me/tokens/{token.id}", 302)]
    assert secret not in html and "was shown once" in html
    assert not any(key.startswith("tokens.created.") for key, _ in signed_in.session.items())


def test_another_users_created_page_is_not_found(signed_in, world, user, client):
    posted = signed_in.post("/me/tokens/new", _new())
    other = UserFactory()
    client.force_login(other)
    assert client.get(posted["Location"]).status_code == 404


def test_add_user_token_with_custom_scopes_and_expiry(signed_in, world, user):
    day = (timezone.now() + timedelta(days=10)).date()
    response = signed_in.post(
        "/me/tokens/new",
        _new(
            scope_preset="custom",
            custom_scopes="userApiTokens.get, orgs.get",
            expires="date",
            expiration_date=day.isoformat(),
        ),
    )
    assert response.status_code == 302
    token = ApiToken.objects.get(user=user)
    assert token.scope == ["userApiTokens.get", "orgs.get"]
    assert token.expiration_date.date() == day


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"name": ""}, "This field is required"),
        ({"scope_preset": "custom", "custom_scopes": ""}, "List at least one scope"),
        ({"scope_preset": "custom", "custom_scopes": "drop table"}, "not a scope name"),
        ({"scope_preset": "custom", "custom_scopes": "nothing.real"}, "is not a known scope"),
        ({"scope_preset": "root"}, "Select a valid choice"),
        ({"expires": "date", "expiration_date": ""}, "Choose the expiration date"),
        ({"expires": "date", "expiration_date": "2001-01-01"}, "must be in the future"),
        ({"expires": "date", "expiration_date": "99999-01-01"}, "Enter a valid date"),
        ({"default_role": "god"}, "Select a valid choice"),
    ],
)
def test_invalid_new_token_shows_the_error_in_place_and_creates_nothing(
    signed_in, world, overrides, field_text
):
    response = signed_in.post("/me/tokens/new", _new(**overrides))
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not ApiToken.objects.exists()
    assert not TokenEvent.objects.exists()


def test_detail_edit_and_status_and_delete(signed_in, world, htmx, api_token_factory):
    token = api_token_factory("CI")
    html = signed_in.get(f"/me/tokens/{token.id}").content.decode()
    assert token.id in html and "all.User" in html and "Delete API Token" in html
    response = signed_in.post(
        f"/me/tokens/{token.id}",
        {"name": "CI 2", "description": "d", "status": "active", "default_role": "edit"},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.default_role) == ("CI 2", "edit")
    row = signed_in.post(f"/me/tokens/{token.id}/status", {"status": "inactive"}, **htmx)
    assert row.status_code == 200 and 'aria-checked="false"' in row.content.decode()
    token.refresh_from_db()
    assert token.status == "inactive"
    gone = signed_in.post(f"/me/tokens/{token.id}/delete", **htmx)
    assert "deleted" in gone.content.decode()
    assert not ApiToken.objects.filter(pk=token.id).exists()


def test_invalid_edit_changes_nothing(signed_in, world, api_token_factory):
    token = api_token_factory("CI")
    before = ApiToken.objects.filter(pk=token.pk).values().get()
    response = signed_in.post(
        f"/me/tokens/{token.id}", {"name": "", "status": "active", "default_role": "edit"}
    )
    assert response.status_code == 400 and b'class="error"' in response.content
    assert ApiToken.objects.filter(pk=token.pk).values().get() == before


def test_another_users_api_token_is_not_found(signed_in, world, api_token_factory):
    other = UserFactory()
    token = api_token_factory("theirs", owner=other)
    assert signed_in.get(f"/me/tokens/{token.id}").status_code == 404
    assert signed_in.post(f"/me/tokens/{token.id}/delete").status_code == 404
    assert ApiToken.objects.filter(pk=token.id).exists()


def test_expired_api_token_is_read_only(signed_in, world, api_token_factory):
    token = api_token_factory("old")
    ApiToken.objects.filter(pk=token.pk).update(expiration_date=timezone.now() - timedelta(days=1))
    html = signed_in.get(f"/me/tokens/{token.id}").content.decode()
    assert "read-only" in html and 'name="name"' not in html
    response = signed_in.post(
        f"/me/tokens/{token.id}", {"name": "x", "status": "active", "default_role": "edit"}
    )
    assert response.status_code == 400
    token.refresh_from_db()
    assert token.name == "old"


def test_new_token_caps_preview_is_a_fragment(signed_in, world, htmx):
    response = signed_in.post("/me/tokens/new/caps", {"default_role": "view"}, **htmx)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<fieldset id="caps"')
    assert not ApiToken.objects.exists()
