"""The My Account pages in a real browser: htmx toggles, in-row delete confirmation, detail
edit, the once-shown API token secret, and the phone layout."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, OAuthClientFactory
from tokens.models import ApiToken, AuthorizationStatus, OAuthToken, TokenEvent
from tokens.secrets import secret_digest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# A 32x32 amber square (a raster image: SVG logos are refused, tokens.client_links).
LOGO = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAKklEQVR42mO4Wc5GU8QwasGoBaMWjFowasGoBaMWjFowasGoBaMWDBULAL5WWExWsEI/AAAAAElFTkSuQmCC"


def _tokens(user):
    claude = OAuthClientFactory(
        client_name="Claude Desktop", client_uri="https://claude.ai/", logo_uri=LOGO
    )
    inspector = OAuthClientFactory(client_name="MCP Inspector")
    now = timezone.now()

    def make(name, client, **fields):
        fields.setdefault("authorization_status", AuthorizationStatus.AUTHORIZED)
        return OAuthToken.objects.create(
            user=user,
            client=client,
            name=name,
            scope=fields.pop("scope", ["all.Application.read", "only.User.read"]),
            redirect_uri="http://127.0.0.1:33418/callback",
            code_challenge="x" * 43,
            resource=["http://testserver/api"],
            **fields,
        )

    return [
        make(
            "Claude Desktop on work laptop",
            claude,
            default_role="edit",
            creation_date=now - timedelta(days=12),
            last_used=now - timedelta(hours=3),
        ),
        make("MCP Inspector", inspector, creation_date=now - timedelta(days=3)),
        make(
            "Claude Desktop (pending)",
            claude,
            authorization_status=AuthorizationStatus.PENDING,
            creation_date=now - timedelta(hours=2),
        ),
        make(
            "Old experiment",
            inspector,
            status="inactive",
            default_role="none",
            scope=["only.Organization.read"],
            creation_date=now - timedelta(days=40),
        ),
    ]


def test_token_list_toggles_in_place_and_deletes_after_confirmation(
    page, demo_user, screenshot_dir
):
    work, inspector, *_ = _tokens(demo_user)
    log_in(page, demo_user, "/me/oauth-tokens")
    assert page.get_by_role("heading", name="OAuth Tokens").is_visible()
    assert page.locator(".badge.pending").count() == 1
    page.screenshot(path=screenshot_dir / "token-list.png", full_page=True)

    # Mark the document: an htmx swap keeps it, a full page load would lose it.
    page.evaluate("window.__stayed = true")
    switch = page.get_by_role("switch", name=f"{work.name}: active")
    assert switch.get_attribute("aria-checked") == "true"
    switch.focus()
    page.keyboard.press("Space")  # keyboard works: it is a real button
    page.wait_for_selector(f'#row-{work.id} [role="switch"][aria-checked="false"]')
    assert page.evaluate("window.__stayed") is True
    work.refresh_from_db()
    assert work.status == "inactive"

    page.get_by_role("link", name=f"Delete {inspector.name}").click()
    confirm = page.locator("tr.confirm-row")
    confirm.wait_for()
    assert "Delete “MCP Inspector”?" in confirm.inner_text()
    assert OAuthToken.objects.filter(pk=inspector.pk).exists()
    confirm.get_by_role("button", name="Delete").click()
    page.get_by_role("status").filter(has_text="“MCP Inspector” deleted").wait_for()
    assert page.evaluate("window.__stayed") is True
    assert not OAuthToken.objects.filter(pk=inspector.pk).exists()
    assert TokenEvent.objects.filter(token_id=inspector.pk, kind="deleted").exists()


def test_detail_page_edits_name_status_and_an_override(page, demo_user, screenshot_dir):
    work, *_ = _tokens(demo_user)
    log_in(page, demo_user, f"/me/oauth-tokens/{work.id}")
    assert page.get_by_role("heading", name="OAuth Client Info").is_visible()
    assert page.get_by_text("Read-only access to all application data").is_visible()
    page.screenshot(path=screenshot_dir / "token-detail.png", full_page=True)

    page.get_by_label("Name").fill("Claude Desktop (home)")
    page.get_by_label("Inactive").check()
    page.get_by_label("Token cap in Globex").select_option("none")
    # htmx recomputes the effective role before saving.
    globex_row = page.locator('#caps table[aria-labelledby="org-overrides"] tr', has_text="Globex")
    globex_row.locator("strong", has_text="None").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("OAuth token saved.").wait_for()
    work.refresh_from_db()
    assert work.name == "Claude Desktop (home)" and work.status == "inactive"
    assert work.org_roles == [{"orgId": demo_user.globex.id, "role": "none"}]
    assert page.get_by_role("heading", name="Claude Desktop (home)").is_visible()


def test_new_api_token_secret_is_shown_once_with_a_copy_button(page, demo_user):
    log_in(page, demo_user, "/me/tokens")
    page.get_by_role("link", name="Add User Token").click()
    page.get_by_label("Name").fill("Deploy script")
    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Create token").click()
    page.get_by_text("Copy this token now").wait_for()
    secret = page.locator("#secret").input_value()
    assert secret.startswith("uat_")
    token = ApiToken.objects.get(user=demo_user)
    assert token.digest == secret_digest(secret) and token.scope == ["all.User.read"]

    copy = page.get_by_role("button", name="Copy")
    assert copy.is_visible()  # JavaScript revealed it
    copy.click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # Reload: no second token, no secret again (Post/Redirect/Get, popped once).
    page.reload()
    page.get_by_text("was shown once").wait_for()
    assert secret not in page.content()
    assert ApiToken.objects.filter(user=demo_user).count() == 1
    page.go_back()
    assert secret not in page.content()
    assert ApiToken.objects.filter(user=demo_user).count() == 1
    page.goto(f"/me/tokens/{token.id}")

    page.get_by_role("heading", name="Token Info").wait_for()
    assert secret not in page.content()
    page.goto("/me/tokens")
    assert secret not in page.content()


def test_pages_fit_a_phone_screen(browser, live_server, demo_user):
    work, *_ = _tokens(demo_user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        log_in(page, demo_user, "/me/oauth-tokens")
        for path in ["/me/oauth-tokens", f"/me/oauth-tokens/{work.id}", "/me/tokens/new", "/"]:
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            widest = page.evaluate(
                """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
                .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""
            )
            assert overflow <= 0, (path, overflow, widest)
        page.goto("/me/oauth-tokens")
        assert page.get_by_role("switch").first.is_visible()
    finally:
        context.close()


def test_forms_post_from_a_real_browser_pass_csrf_under_no_referrer(page, demo_user, live_server):
    """The Referrer-Policy header is no-referrer; the pages' meta policy keeps the Origin header
    meaningful, so Django's CSRF check accepts same-origin forms (login, logout, admin)."""
    response = page.goto("/accounts/login/")
    assert response.headers["referrer-policy"] == "no-referrer"
    log_in(page, demo_user, "/me")
    assert page.get_by_role("heading", name="My Account", level=1).is_visible()
    page.locator("details.avatar-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    demo_user.is_staff = demo_user.is_superuser = True
    demo_user.save()
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(demo_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()
