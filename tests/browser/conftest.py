"""Playwright (Python) driving Debian's Chromium against pytest-django's live server.

Screenshots go to a temporary directory, or to $SCREENSHOT_DIR when set (the README's
images: `SCREENSHOT_DIR=docs/img make test PYTEST_ARGS=tests/browser`)."""

import os
import socket
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from accounts.roles import Role
from tests.factories import (
    PASSWORD,
    ApplicationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module. Playwright's sync API keeps an event loop running in this
    thread while it is open; the tests' own ORM calls stay synchronous and sequential, so
    Django's async-safety guard is lifted for exactly that span and restored afterwards (later
    tests, e.g. the MCP interop ones, need a thread with no running loop)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _chromium()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            headless=True,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    directory = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def demo_user(transactional_db):
    """A user with a realistic world: admin of one organization, viewer of another."""
    user = UserFactory(email="dana@example.com", first_name="Dana", last_name="Rivera")
    acme = OrganizationFactory(name="Acme Robotics")
    globex = OrganizationFactory(name="Globex")
    MembershipFactory(user=user, organization=acme, role=Role.ADMIN)
    MembershipFactory(user=user, organization=globex, role=Role.VIEW)
    for name in ["Assembly Line", "Warehouse Drones"]:
        ApplicationFactory(name=name, organization=acme)
    ApplicationFactory(name="Smart Meters", organization=globex)
    ApplicationFactory(name="My Sandbox App", organization=None, sandbox_user=user)
    user.acme, user.globex = acme, globex
    return user


def log_in(page, user, next_path: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
