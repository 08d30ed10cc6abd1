"""A real OAuth client library (Authlib's requests-based OAuth2Session) drives a live server:
metadata discovery, registration, login and consent (as a browser would), code exchange with
PKCE, the API, refresh."""

import re
from urllib.parse import urljoin

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.factories import PASSWORD, UserFactory

REDIRECT_URI = "http://127.0.0.1:9/callback"


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return match.group(1).replace("&amp;", "&")


def _browser_consent(authorization_url: str, email: str) -> str:
    """Log in and click Authorize like a browser; return the redirect to the client."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False)
    assert response.status_code == 302
    login_url = urljoin(authorization_url, response.headers["Location"])
    login_page = browser.get(login_url)
    response = browser.post(
        login_url,
        data={
            "csrfmiddlewaretoken": _hidden(login_page.text, "csrfmiddlewaretoken"),
            "username": email,
            "password": PASSWORD,
            "next": _hidden(login_page.text, "next"),
        },
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    consent_page = browser.get(
        urljoin(login_url, response.headers["Location"]), allow_redirects=False
    )
    assert consent_page.status_code == 200, consent_page.text[:500]
    assert consent_page.headers["X-Frame-Options"] == "DENY"
    response = browser.post(
        urljoin(authorization_url, "/oauth/authorize"),
        data={
            "csrfmiddlewaretoken": _hidden(consent_page.text, "csrfmiddlewaretoken"),
            "request": _hidden(consent_page.text, "request"),
            "default_role": "view",
            "decision": "authorize",
        },
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_authlib_oauth2session_drives_a_live_server(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    user = UserFactory()

    # Discovery from the protected resource to its authorization server (RFC 9728, RFC 8414).
    prm = requests.get(f"{live_server.url}/.well-known/oauth-protected-resource/api").json()
    issuer = prm["authorization_servers"][0]
    metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == issuer == live_server.url

    # Dynamic registration (RFC 7591).
    registered = requests.post(
        metadata["registration_endpoint"],
        json={
            "client_name": "Authlib Live Client",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert registered.status_code == 201
    client_id = registered.json()["client_id"]

    session = OAuth2Session(
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        scope="only.User.read all.Application.read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = "v" * 20 + create_s256_code_challenge("live-test")[:40]
    authorization_url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, resource=prm["resource"]
    )
    callback = _browser_consent(authorization_url, user.email)
    assert callback.startswith(REDIRECT_URI + "?")
    assert f"state={state}" in callback
    assert "iss=" in callback

    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        resource=prm["resource"],
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "only.User.read all.Application.read"

    me = session.get(f"{live_server.url}/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == user.email

    old_refresh = token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    assert session.get(f"{live_server.url}/api/me").status_code == 200

    # The rotated refresh token is spent; reusing it revokes the family (OAuth 2.1 §4.3.1).
    reuse = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": client_id},
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert session.get(f"{live_server.url}/api/me").status_code == 401
