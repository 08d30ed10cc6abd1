"""The whole consent flow in a browser: a client's authorization URL, login, the consent screen
with a per-organization override chosen, Authorize, and the code at the redirect URI; then the
code is exchanged with the PKCE verifier."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import free_port
from tests.browser.test_token_pages import LOGO
from tests.factories import PASSWORD, OAuthClientFactory
from tokens.models import OAuthToken

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_consent_flow_from_authorization_url_to_code_with_an_override(
    page, live_server, settings, demo_user, screenshot_dir
):
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    # A loopback redirect where nothing listens: the browser's request still shows the code.
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client = OAuthClientFactory(
        client_name="Claude Desktop",
        client_uri="https://claude.ai/",
        logo_uri=LOGO,
        redirect_uris=[redirect_uri],
    )
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": "all.Application.read only.User.read",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page.goto(f"/oauth/authorize?{query}")
    # Not signed in: the login page comes first and returns to the consent screen.
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill(demo_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Requested Scopes").wait_for()
    assert page.get_by_text("Read-only access to all application data").is_visible()

    globex = page.locator(f'.effective-role[data-org="{demo_user.globex.id}"]')
    page.get_by_label("Override for Globex").select_option("none")
    expect(globex).to_have_text("None")  # htmx recomputed the effective role
    page.get_by_label("Default Maximum Client Role").select_option("edit")
    acme = page.locator(f'.effective-role[data-org="{demo_user.acme.id}"]')
    expect(acme).to_have_text("Editor")
    assert page.get_by_label("Override for Globex").input_value() == "none"
    page.screenshot(path=screenshot_dir / "consent.png", full_page=True)

    with page.expect_request(lambda r: r.url.startswith(redirect_uri)) as request_info:
        page.get_by_role("button", name="Authorize Application").click()
    # Nothing listens there: wait for Chromium's error page, or a later goto races with it.
    page.wait_for_url("chrome-error://**")
    callback = urlsplit(request_info.value.url)
    params = parse_qs(callback.query)
    assert params["state"] == [state]
    assert params["iss"] == [live_server.url]
    code = params["code"][0]

    token = OAuthToken.objects.get(user=demo_user, client=client)
    assert token.default_role == "edit"
    assert token.org_roles == [{"orgId": demo_user.globex.id, "role": "none"}]

    exchanged = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["token_type"] == "Bearer"
    token.refresh_from_db()
    assert not token.is_pending and token.is_active

    # The new grant is in My Account at once.
    page.goto("/me/oauth-tokens")
    assert page.get_by_role("link", name=token.name, exact=True).is_visible()
