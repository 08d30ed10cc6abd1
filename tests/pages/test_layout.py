"""The signed-in layout, home, My Account, login, error pages and security headers."""

import re

import pytest

from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login_from_every_page(client):
    for url in ["/", "/me", "/me/oauth-tokens", "/me/tokens", "/me/tokens/new"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_logs_in_and_returns_to_next(client, user):
    page = client.get("/accounts/login/?next=/me/oauth-tokens")
    assert page.status_code == 200
    assert b'<label for="id_username">Email</label>' in page.content
    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": "/me/oauth-tokens"},
    )
    assert response.status_code == 302 and response["Location"] == "/me/oauth-tokens"


def test_wrong_password_shows_error_in_place(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_layout_has_avatar_menu_my_account_and_the_users_orgs_and_apps(signed_in, world, user):
    other_org = OrganizationFactory(name="Not Mine")
    ApplicationFactory(name="Hidden App", organization=other_org)
    html = signed_in.get("/").content.decode()
    assert 'class="avatar-menu"' in html
    assert '<a href="/me">My Account</a>' in html
    assert world["org"].name in html
    for app in [*world["apps"], world["sandbox_app"]]:
        assert f'href="/applications/{app.id}/tokens"' in html
    assert "Hidden App" not in html and "Not Mine" not in html
    # Logging out is a POST form (CSRF-protected), not a link.
    assert 'action="/accounts/logout/"' in html


def test_layout_puts_csrf_token_in_hx_headers_on_body(signed_in, world):
    html = signed_in.get("/me/oauth-tokens").content.decode()
    assert '<body hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/js/htmx.min.js" in html and "unpkg" not in html
    # No script or stylesheet from another origin (a random CSRF token may spell "cdn").
    assert not re.search(r'<(script|link)\b[^>]*\b(src|href)="(https?:)?//', html)


def test_nav_query_count_does_not_grow_with_organizations(
    signed_in, user, django_assert_max_num_queries
):
    for n in range(6):
        org = OrganizationFactory(name=f"Org {n}")
        MembershipFactory(user=user, organization=org, role="view")
        ApplicationFactory(organization=org)
    with django_assert_max_num_queries(8):
        response = signed_in.get("/me")
    assert response.status_code == 200
    assert response.content.decode().count("Viewer") >= 6


def test_my_account_shows_profile_and_roles(signed_in, world, user):
    html = signed_in.get("/me").content.decode()
    assert user.email in html and user.id in html
    assert "Administrator" in html  # the user's role in the organization


def test_home_links_my_account_pages_with_counts(signed_in, world, oauth_token_factory):
    oauth_token_factory()
    html = signed_in.get("/").content.decode()
    assert 'href="/me/oauth-tokens"' in html and 'href="/me/tokens"' in html
    assert '<span class="count">1</span>' in html


def test_every_page_forbids_framing_and_referrers(signed_in, client, world):
    for response in [signed_in.get("/me/oauth-tokens"), client.get("/accounts/login/")]:
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "no-referrer"


def test_unknown_page_is_a_friendly_404(signed_in):
    response = signed_in.get("/me/oauth-tokens/doesnotexist")
    assert response.status_code == 404
    assert b"Not found" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/me/oauth-tokens/%00",
        "/me/oauth-tokens/%00/status",
        "/me/tokens/abc%00def",
        "/me/tokens/" + "a" * 300,
        "/applications/%00/tokens",
        "/applications/%00/tokens/%00",
        "/me/oauth-tokens?filter=%00",
        "/me/tokens?page=99999999999999999999",
    ],
)
def test_hostile_paths_and_parameters_never_give_a_500(signed_in, world, path):
    assert signed_in.get(path).status_code in (400, 404, 405)
    assert signed_in.post(path, {"status": "inactive", "name": "\x00"}).status_code in (
        400,
        403,
        404,
        405,
    )
