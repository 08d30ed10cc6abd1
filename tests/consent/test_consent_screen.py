"""The consent screen (issue 3; user-oauth-tokens-guide; RFC 9700 §4.16, §4.2.4; MCP best
practices): what it shows, its headers, CSRF, the signed request, role previews."""

import time

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apikit.scopes import OAUTH_SCOPE_DESCRIPTIONS
from consent.forms import CONSENT_SALT
from consent.models import ClientRegistration
from tests.consent.helpers import authorize_params, authorize_url, logged_in, pkce_pair
from tests.factories import OAuthClientFactory, OrganizationFactory, UserFactory
from tokens.models import OAuthToken


def _open(user, client_app, **overrides):
    browser = logged_in(user)
    _, challenge = pkce_pair()
    page = browser.get(authorize_url(authorize_params(client_app, challenge, **overrides)))
    assert page.status_code == 200
    return browser, page


def test_consent_page_shows_client_scopes_roles_and_redirect_host(
    user, organization, member_factory
):
    member_factory(user, organization, role="collaborate")
    client_app = OAuthClientFactory(
        client_name="Acme Assistant",
        client_uri="https://assistant.example/",
        logo_uri="https://assistant.example/logo.png",
        tos_uri="https://assistant.example/tos",
        policy_uri="https://assistant.example/privacy",
    )
    _, page = _open(user, client_app, scope="only.User.read all.Organization.bounded")
    html = page.content.decode()
    assert '<img class="client-logo" src="https://assistant.example/logo.png"' in html
    assert (
        '<a href="https://assistant.example/" rel="noopener noreferrer" target="_blank">Acme Assistant</a>'
        in html
    )
    assert 'href="https://assistant.example/tos"' in html
    assert 'href="https://assistant.example/privacy"' in html
    assert "<strong>client.example</strong>" in html
    assert "Requested Scopes" in html
    for scope in ("only.User.read", "all.Organization.bounded"):
        assert OAUTH_SCOPE_DESCRIPTIONS[scope] in html
    assert "all.Application.read" not in html
    assert "Default Maximum Client Role" in html
    assert '<option value="view" selected>' in html
    for role in ("admin", "edit", "collaborate", "view", "none"):
        assert f'<option value="{role}"' in html
    assert "Per-Organization Permissions" in html
    rows = {row.org_id: row for row in page.context["permission_rows"]}
    assert rows[organization.pk].user_role == "collaborate"
    assert rows[organization.pk].effective_role == "view"
    assert rows["sandbox"].name == "Sandbox" and rows["sandbox"].user_role == "admin"
    assert "Authorize Application" in html and ">Deny<" in html
    assert "Unverified application" not in html


@pytest.mark.parametrize(
    "logo",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil/x.png",
    ],
)
def test_unsafe_logo_or_homepage_is_never_rendered(user, logo):
    client_app = OAuthClientFactory(logo_uri=logo, client_uri="javascript:alert(1)")
    _, page = _open(user, client_app)
    html = page.content.decode()
    assert "<img" not in html
    assert "javascript:" not in html
    assert "vbscript:" not in html


def test_data_image_logo_is_rendered(user):
    logo = "data:image/png;base64,iVBORw0KGgo="
    _, page = _open(user, OAuthClientFactory(logo_uri=logo))
    assert f'src="{logo}"' in page.content.decode()


def test_dynamic_client_with_loopback_redirects_gets_both_warnings(user):
    client_app = OAuthClientFactory(
        registration=ClientRegistration.DYNAMIC,
        redirect_uris=["http://127.0.0.1/callback", "http://localhost/callback"],
    )
    _, page = _open(user, client_app, redirect_uri="http://127.0.0.1:7777/callback")
    html = page.content.decode()
    assert "Unverified application" in html
    assert "only receives its answer on your own computer" in html
    assert "<strong>127.0.0.1:7777</strong>" in html


def test_dynamic_client_with_https_redirect_gets_only_the_unverified_warning(user):
    client_app = OAuthClientFactory(registration=ClientRegistration.DYNAMIC)
    _, page = _open(user, client_app)
    html = page.content.decode()
    assert "Unverified application" in html
    assert "only receives its answer on your own computer" not in html


def test_interactive_pages_forbid_framing_and_referrers(user, client_app):
    _, page = _open(user, client_app)
    error = logged_in(user).get(authorize_url({"client_id": "unknown"}))
    for response in (page, error):
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["Cache-Control"] == "no-store"


def test_consent_post_without_csrf_token_is_refused(user, client_app):
    _, page = _open(user, client_app)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "view",
        },
    )
    assert response.status_code == 403
    assert not OAuthToken.objects.exists()


def test_the_validated_request_travels_in_one_signed_field(user, client_app):
    browser, page = _open(user, client_app)
    html = page.content.decode()
    assert html.count('type="hidden" name="request"') == 1
    signed = page.context["signed_request"]
    payload = signing.loads(signed, salt=CONSENT_SALT)
    assert payload["params"]["client_id"] == client_app.client_id
    tampered = signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB")
    response = browser.post(
        "/oauth/authorize", {"request": tampered, "decision": "authorize", "default_role": "view"}
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert not OAuthToken.objects.exists()


def test_an_expired_signed_request_is_refused(user, client_app):
    browser, page = _open(user, client_app)
    payload = signing.loads(page.context["signed_request"], salt=CONSENT_SALT)

    class PastSigner(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 3600)

    old = PastSigner(salt=CONSENT_SALT).sign_object(payload, compress=True)
    response = browser.post(
        "/oauth/authorize", {"request": old, "decision": "authorize", "default_role": "view"}
    )
    assert response.status_code == 400
    assert not OAuthToken.objects.exists()


def test_a_signed_request_of_another_user_is_refused(user, client_app):
    _, page = _open(user, client_app)
    intruder = logged_in(UserFactory())
    response = intruder.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "authorize",
            "default_role": "view",
        },
    )
    assert response.status_code == 400
    assert not OAuthToken.objects.exists()


def test_effective_role_never_exceeds_the_users_own_role(
    user, organization, member_factory, client_app
):
    member_factory(user, organization, role="view")
    browser, page = _open(user, client_app)
    response = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "preview",
            "default_role": "admin",
            f"org_{organization.pk}": "admin",
        },
    )
    assert response.status_code == 200
    rows = {row.org_id: row for row in response.context["permission_rows"]}
    assert rows[organization.pk].effective_role == "view"
    assert rows["sandbox"].effective_role == "admin"
    assert not OAuthToken.objects.exists()


def test_htmx_preview_returns_only_the_permissions_fragment(
    user, organization, member_factory, client_app
):
    member_factory(user, organization, role="edit")
    browser, page = _open(user, client_app)
    response = browser.post(
        "/oauth/authorize",
        {
            "request": page.context["signed_request"],
            "decision": "preview",
            "default_role": "none",
            f"org_{organization.pk}": "collaborate",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="permissions">')
    assert "<html" not in html
    assert f'<td class="effective-role" data-org="{organization.pk}">Collaborator</td>' in html
    assert '<td class="effective-role" data-org="sandbox">None</td>' in html
    assert not OAuthToken.objects.exists()


def test_consent_page_query_count_does_not_grow_with_organizations(
    user, client_app, member_factory
):
    def count() -> int:
        browser = logged_in(user)
        _, challenge = pkce_pair()
        url = authorize_url(authorize_params(client_app, challenge))
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url).status_code == 200
        return len(queries)

    member_factory(user, OrganizationFactory(), role="admin")
    one = count()
    for _ in range(6):
        member_factory(user, OrganizationFactory(), role="view")
    assert count() == one


def test_authorize_without_javascript_is_a_plain_form_post(user, client_app):
    _, page = _open(user, client_app)
    html = page.content.decode()
    assert '<form method="post" action="/oauth/authorize"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<button type="submit" name="decision" value="authorize" class="primary">' in html
