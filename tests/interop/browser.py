"""A user's browser, reduced to plain HTTP: follow an authorization URL to the login page, sign
in, and click Authorize on the consent screen. What the MCP clients under test would hand to a
real browser is handed to this instead."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.factories import PASSWORD


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name} field on the page"
    return html.unescape(match.group(1))


@dataclass(frozen=True)
class Consented:
    """What the browser saw: the consent page and the redirect back to the client."""

    consent_page: str
    location: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def browser_consent(authorization_url: str, *, email: str, default_role: str = "view") -> Consented:
    """GET the authorization URL, log in (CSRF token from the form), GET the consent screen,
    POST Authorize with its signed request and CSRF token; the redirect to the client's
    `redirect_uri` is returned, never followed (nothing listens there)."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text[:500]
    login_url = urljoin(authorization_url, response.headers["Location"])
    login_page = browser.get(login_url, timeout=30)
    assert login_page.status_code == 200, login_page.text[:500]
    response = browser.post(
        login_url,
        data={
            "csrfmiddlewaretoken": _hidden(login_page.text, "csrfmiddlewaretoken"),
            "username": email,
            "password": PASSWORD,
            "next": _hidden(login_page.text, "next"),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    consent_url = urljoin(login_url, response.headers["Location"])
    consent_page = browser.get(consent_url, allow_redirects=False, timeout=30)
    assert consent_page.status_code == 200, consent_page.text[:500]
    response = browser.post(
        urljoin(authorization_url, urlsplit(authorization_url).path),
        data={
            "csrfmiddlewaretoken": _hidden(consent_page.text, "csrfmiddlewaretoken"),
            "request": _hidden(consent_page.text, "request"),
            "default_role": default_role,
            "decision": "authorize",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    return Consented(consent_page=consent_page.text, location=response.headers["Location"])
