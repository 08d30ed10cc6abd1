"""Rule 10: dynamic clients cannot pose as the product, its staff or a user (RFC 9700 §4.15,
OAuth 2.1 §7.4), their logo and links are rendered safely, and their consent screen carries
the unverified-client warning (OAuth 2.1 §7.9). Single cases are in
tests/consent/test_registration.py, tests/consent/test_consent_screen.py and
tests/pages/test_oauth_token_pages.py."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from consent.models import ClientRegistration, OAuthClient
from tests.consent.helpers import authorize_params, authorize_url, logged_in, pkce_pair
from tests.factories import OAuthClientFactory
from tokens.models import OAuthToken


def _register(**metadata):
    body = {"redirect_uris": ["https://tool.example/cb"], **metadata}
    return Client().post("/oauth/register", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "name",
    [
        "Losant",
        "LOSANT CLI",
        "losant-mcp",
        "Admin",
        "Site Administrator",
        "Official MCP Client",
        "Support",
        "Security Scanner",
        "System",
        "OAuth Consent Server",
        "ceo@example.com",
        "Help \u202eKCATTA",  # right-to-left override
        "Lo\u200bsant",  # zero-width space
        "Tool\u0000",
        "\uff2c\uff4f\uff53\uff41\uff4e\uff54",  # full-width "Losant"
        "\U0001d40b\U0001d428\U0001d42c\U0001d41a\U0001d427\U0001d42d",  # bold "Losant"
        "L\u043esant",  # Cyrillic o inside a Latin word
        "\u0410dmin Tool",  # Cyrillic A
    ],
)
def test_names_that_pose_as_the_product_its_staff_or_a_user_are_refused(db, name):
    response = _register(client_name=name)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["Claude Desktop", "Caf\u00e9 Tools", "\u041a\u043b\u0438\u0435\u043d\u0442", "VS Code (MCP)"],
)
def test_ordinary_names_in_any_one_script_are_accepted(db, name):
    assert _register(client_name=name).status_code == 201


@pytest.mark.parametrize(
    "field", ["logo_uri", "client_uri", "tos_uri", "policy_uri"], ids=lambda f: f
)
@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "https://user:pass@tool.example/x",
    ],
)
def test_script_and_odd_urls_are_refused_at_registration(db, field, value):
    response = _register(client_name="Tool", **{field: value})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


HOSTILE_NAME = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'


def test_a_hostile_name_is_escaped_on_the_consent_screen_and_in_my_account(user):
    client_app = OAuthClientFactory(
        client_name=HOSTILE_NAME,
        registration=ClientRegistration.DYNAMIC,
        logo_uri="javascript:alert(3)",
        client_uri="data:text/html,<script>alert(4)</script>",
        policy_uri="javascript:alert(5)",
        tos_uri="vbscript:x",
    )
    browser = logged_in(user)
    _, challenge = pkce_pair()
    consent_page = browser.get(authorize_url(authorize_params(client_app, challenge)))
    token = OAuthToken.objects.create(
        user=user,
        client=client_app,
        name=HOSTILE_NAME,
        scope=["only.User.read"],
        redirect_uri=client_app.redirect_uris[0],
        code_challenge="x" * 43,
        authorization_status="authorized",
    )
    pages = [
        consent_page,
        browser.get("/me/oauth-tokens"),
        browser.get(f"/me/oauth-tokens/{token.pk}"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "<img src=x" not in html
        assert "<script>alert" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        for scheme in ("javascript:", "vbscript:", "data:text/html"):
            assert scheme not in html.lower()


@pytest.mark.parametrize(
    ("registration", "warned"),
    [
        (ClientRegistration.DYNAMIC, True),
        (ClientRegistration.METADATA_DOCUMENT, True),
        (ClientRegistration.ADMIN, False),
    ],
)
def test_only_admin_vetted_clients_go_without_the_unverified_warning(user, registration, warned):
    client_app = OAuthClientFactory(registration=registration)
    _, challenge = pkce_pair()
    page = logged_in(user).get(authorize_url(authorize_params(client_app, challenge)))
    assert page.status_code == 200
    assert ("Unverified application" in page.content.decode()) is warned


def test_a_registration_cannot_choose_its_own_client_id_or_secret(db):
    response = _register(
        client_name="Tool",
        client_id="0000000000000000000de301",
        client_secret="ocs_chosen",
        token_endpoint_auth_method="client_secret_basic",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client_id"] != "0000000000000000000de301"
    assert body["client_secret"] != "ocs_chosen"
