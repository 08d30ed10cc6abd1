"""Shared steps of the OAuth tests: PKCE pairs, the authorize -> consent -> token walk."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

from tests.factories import PASSWORD

RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
REDIRECT_URI = "https://client.example/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_params(client_app, challenge: str, **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_app.client_id,
        "redirect_uri": client_app.redirect_uris[0],
        "scope": "only.User.read all.Application.read",
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize_url(params: dict) -> str:
    return "/oauth/authorize?" + urlencode(params, doseq=True)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def logged_in(user) -> Client:
    browser = Client()
    assert browser.login(email=user.email, password=PASSWORD)
    return browser


def consent(browser: Client, params: dict, **choices) -> dict[str, str]:
    """GET the consent screen, click Authorize; return the redirect's query parameters."""
    page = browser.get(authorize_url(params))
    assert page.status_code == 200, page.content[:500]
    data = {"request": page.context["signed_request"], "decision": "authorize"}
    data.setdefault("default_role", "view")
    data.update(choices)
    response = browser.post("/oauth/authorize", data)
    assert response.status_code == 302, response.content[:500]
    return query_of(response["Location"])


def exchange(http: Client, client_app, code: str, verifier: str, **extra) -> dict:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client_app.redirect_uris[0],
        "client_id": client_app.client_id,
        "code_verifier": verifier,
    }
    data.update(extra)
    response = http.post("/oauth/token", {k: v for k, v in data.items() if v is not None})
    return {"status": response.status_code, "body": response.json(), "response": response}


def tokens_for(user, client_app, **consent_choices) -> dict:
    """Run the whole flow; return the token response body."""
    verifier, challenge = pkce_pair()
    browser = logged_in(user)
    result = consent(browser, authorize_params(client_app, challenge), **consent_choices)
    exchanged = exchange(Client(), client_app, result["code"], verifier)
    assert exchanged["status"] == 200, exchanged["body"]
    return exchanged["body"]


def refresh(http: Client, client_app, refresh_token: str, **extra) -> dict:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_app.client_id,
    }
    data.update(extra)
    response = http.post("/oauth/token", data)
    return {"status": response.status_code, "body": response.json(), "response": response}


def confidential_client(**overrides):
    """A dynamically registered confidential client and its raw secret."""
    from consent.forms import client_metadata_clean
    from consent.services import client_register

    data = {
        "client_name": "Confidential Tool",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    data.update(overrides)
    return client_register(metadata=client_metadata_clean(data))


def basic_auth(client_id: str, secret: str) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
