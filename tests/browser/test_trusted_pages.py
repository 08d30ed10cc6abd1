"""Issue 18 in a real Chromium: axe-core on every page (admin excepted), the consent flow by
keyboard alone, the effective-role preview (last change wins, busy sign, no-JS button), Switch
account, the phone menu, the favicon and the vendored API docs viewer."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from consent.models import OAuthClient
from tests.browser.axe import assert_accessible
from tests.browser.conftest import free_port, log_in
from tests.browser.test_token_pages import LOGO, _tokens
from tests.factories import PASSWORD, OAuthClientFactory, UserFactory
from tokens.models import ApiToken, OAuthToken

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def oauth_client(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    return OAuthClientFactory(
        client_name="Claude Desktop",
        client_uri="https://claude.ai/",
        logo_uri=LOGO,
        redirect_uris=[f"http://127.0.0.1:{free_port()}/callback"],
    )


def authorize_path(client: OAuthClient, scope: str = "all.Application.read only.User.read") -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "scope": scope,
        "state": "s-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/oauth/authorize?{urlencode(query)}"


def test_every_page_has_no_serious_accessibility_violation(
    page, demo_user, oauth_client, screenshot_dir
):
    work, *_ = _tokens(demo_user)
    page.goto("/accounts/login/")
    assert_accessible(page)
    log_in(page, demo_user, "/")
    app = demo_user.acme.applications.first()
    for path in [
        "/",
        "/me",
        "/me/oauth-tokens",
        f"/me/oauth-tokens/{work.id}",
        f"/me/oauth-tokens/{work.id}/delete",
        f"/me/oauth-tokens/clients/{work.client_id}/revoke",
        "/me/tokens",
        "/me/tokens/new",
        f"/applications/{app.id}/tokens",
        f"/applications/{app.id}/tokens/new",
        "/me/no-such-page",
    ]:
        page.goto(path)
        assert_accessible(page)

    # Forms with their errors shown, and the once-shown secret.
    page.goto("/me/tokens/new")
    page.get_by_role("button", name="Create token").click()
    page.locator(".error").first.wait_for()
    assert_accessible(page)
    page.get_by_label("Name").fill("Deploy")
    page.get_by_role("button", name="Create token").click()
    page.get_by_text("Copy this token now").wait_for()
    assert_accessible(page)
    token = ApiToken.objects.get(user=demo_user)
    page.goto(f"/me/tokens/{token.id}")
    assert_accessible(page)

    # The consent screen (first time and after an earlier consent), and its error pages.
    page.goto(authorize_path(oauth_client))
    page.get_by_role("heading", name="Requested Scopes").wait_for()
    assert_accessible(page)
    with page.expect_request(lambda r: r.url.startswith(oauth_client.redirect_uris[0])):
        page.get_by_role("button", name="Authorize Application").click()
    page.wait_for_url("chrome-error://**")  # nothing listens at the redirect URI
    OAuthToken.objects.filter(client=oauth_client).update(authorization_status="authorized")
    page.goto(authorize_path(oauth_client, "all.Application.read all.Organization.read"))
    page.locator(".badge.granted").first.wait_for()
    page.screenshot(path=screenshot_dir / "consent-incremental.png", full_page=True)
    assert_accessible(page)
    page.goto("/oauth/authorize?client_id=nobody&response_type=code")
    assert_accessible(page)
    OAuthClient.objects.filter(pk=oauth_client.pk).update(is_suspended=True)
    page.goto(authorize_path(oauth_client))
    page.get_by_text("suspended this application").wait_for()
    assert_accessible(page)


def test_consent_flow_completes_with_the_keyboard_alone(page, demo_user, oauth_client):
    log_in(page, demo_user, "/")
    page.goto(authorize_path(oauth_client))
    page.get_by_role("heading", name="Requested Scopes").wait_for()

    def tab_to(predicate: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(
                f"(() => {{ const e = document.activeElement; return {predicate}; }})()"
            ):
                return
        raise AssertionError(f"never reached by Tab: {predicate}")

    tab_to("e.id === 'id_default_role'")
    page.keyboard.press("ArrowDown")  # Viewer -> None (the select changes in place)
    expect(page.locator("#id_default_role")).to_have_value("none")
    expect(page.locator(f'.effective-role[data-org="{demo_user.acme.id}"]')).to_have_text("None")
    tab_to("e.textContent.trim() === 'Authorize Application'")
    with page.expect_request(lambda r: r.url.startswith(oauth_client.redirect_uris[0])) as info:
        page.keyboard.press("Enter")
    assert "code" in parse_qs(urlsplit(info.value.url).query)
    assert OAuthToken.objects.get(user=demo_user).default_role == "none"


def test_effective_role_preview_last_change_wins_with_a_busy_sign(page, demo_user, oauth_client):
    log_in(page, demo_user, "/")
    page.goto(authorize_path(oauth_client))
    page.get_by_role("heading", name="Requested Scopes").wait_for()
    # JavaScript runs: the no-JS button is hidden.
    expect(page.get_by_role("button", name="Update effective roles")).to_be_hidden()

    held = []
    page.route(
        "**/oauth/authorize",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    override = page.get_by_label("Override for Acme Robotics")
    override.select_option("collaborate")
    busy = page.locator("form .busy")
    expect(busy).to_be_visible()  # a request is in flight
    override.select_option("view")  # a second change while the first is still out
    for _ in range(100):
        if len(held) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(held) == 2
    held[1].continue_()
    # The first was aborted by hx-sync="this:replace"; its late answer must not win.
    with contextlib.suppress(Exception):  # Playwright may refuse to continue an aborted request
        held[0].continue_()
    acme = page.locator(f'.effective-role[data-org="{demo_user.acme.id}"]')
    expect(acme).to_have_text("Viewer")
    page.wait_for_timeout(300)
    expect(acme).to_have_text("Viewer")
    expect(busy).to_be_hidden()
    page.unroute("**/oauth/authorize")


def test_every_change_of_an_override_updates_the_effective_role(page, demo_user, oauth_client):
    """The overrides are redrawn with each answer: changes after a redraw must still count."""
    log_in(page, demo_user, "/")
    page.goto(authorize_path(oauth_client))
    acme = page.locator(f'.effective-role[data-org="{demo_user.acme.id}"]')
    globex = page.locator(f'.effective-role[data-org="{demo_user.globex.id}"]')
    for choice, label in [("collaborate", "Collaborator"), ("none", "None"), ("edit", "Editor")]:
        page.get_by_label("Override for Acme Robotics").select_option(choice)
        expect(acme).to_have_text(label)
    page.get_by_label("Override for Globex").select_option("none")
    expect(globex).to_have_text("None")
    page.get_by_label("Default Maximum Client Role").select_option("admin")
    expect(acme).to_have_text("Editor")  # the override still holds
    expect(page.locator(".effective-role[data-org='sandbox']")).to_have_text("Administrator")


def test_effective_role_preview_without_javascript_uses_the_button(
    browser, live_server, demo_user, oauth_client
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, demo_user, "/")
        page.goto(authorize_path(oauth_client))
        button = page.get_by_role("button", name="Update effective roles")
        expect(button).to_be_visible()
        page.get_by_label("Override for Acme Robotics").select_option("collaborate")
        button.click()
        page.wait_for_load_state()
        acme = page.locator(f'.effective-role[data-org="{demo_user.acme.id}"]')
        expect(acme).to_have_text("Collaborator")
    finally:
        context.close()


def test_switch_account_returns_to_the_same_authorization_request(page, demo_user, oauth_client):
    other = UserFactory(email="sam@example.com")
    path = authorize_path(oauth_client)
    log_in(page, demo_user, "/")
    page.goto(path)
    expect(page.get_by_text(f"Signed in as {demo_user.email}")).to_be_visible()
    page.get_by_role("button", name="Not you? Switch account").click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill(other.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {other.email}")).to_be_visible()
    assert urlsplit(page.url).path == "/oauth/authorize"
    assert parse_qs(urlsplit(page.url).query) == parse_qs(urlsplit(path).query)


def test_phone_menu_folds_the_sidebar_and_docs_fit_a_phone(browser, live_server, demo_user):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        log_in(page, demo_user, "/me/oauth-tokens")
        sidebar = page.locator("nav.sidebar")
        expect(sidebar).to_be_hidden()
        page.locator("label.nav-toggle-label").click()
        expect(sidebar).to_be_visible()
        page.locator("#nav-toggle").focus()
        page.keyboard.press("Space")  # keyboard too: Space folds it again
        expect(sidebar).to_be_hidden()

        # The API docs: linked from the top bar, our own origin only, no sideways scrolling.
        # Redoc's attribution asks for a logo on its CDN; the docs' CSP refuses it, so nothing
        # from another origin is ever fetched.
        requests: list[str] = []
        page.on("requestfinished", lambda r: requests.append(r.url))
        page.get_by_role("link", name="API docs").click()
        page.wait_for_url("**/api/docs")
        page.locator("#redoc h1").first.wait_for()
        page.get_by_text("userOauthTokens", exact=False).first.wait_for(state="attached")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        foreign = [u for u in requests if not u.startswith((live_server.url, "data:", "blob:"))]
        assert foreign == []
    finally:
        context.close()


def test_favicon_is_served(page, live_server):
    page.goto("/accounts/login/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"].startswith("image/svg")
