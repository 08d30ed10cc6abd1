"""The official MCP Python client (`mcp` 2.3.0, `mcp.client.auth.OAuthClientProvider`, library
code unmodified) against a live server: it meets a 401 on `/api/me`, discovers the protected
resource metadata (RFC 9728) and the authorization server (RFC 8414), registers (RFC 7591), is sent
through login and consent (a plain-HTTP browser), checks `state` and `iss` (RFC 9207), exchanges
the code with PKCE and `resource` (RFC 8707), calls `/api/me`, and refreshes once its access token
has expired (OAuth 2.1 §4.3.1 rotation). Only the token storage and the two handlers are ours."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import requests
from django.utils import timezone
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from apikit.scopes import OAUTH_SCOPES
from consent.models import ClientRegistration, OAuthClient
from tests.factories import UserFactory
from tests.interop.browser import browser_consent
from tokens.models import AccessToken, AuthorizationStatus, TokenStatus
from tokens.models import OAuthToken as Grant

# Nothing listens here: the browser stops at the redirect and hands its query to the client.
REDIRECT_URI = "http://127.0.0.1:33418/callback"
CLIENT_NAME = "MCP Python Interop Client"


@dataclass
class MemoryStorage:
    """`mcp.client.auth.TokenStorage`, in memory, keeping every value it was given."""

    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None
    saved_tokens: list[OAuthToken] = field(default_factory=list)

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.saved_tokens.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Browser:
    """The redirect handler opens the authorization URL in a (plain-HTTP) browser that logs in
    and consents; the callback handler returns what the redirect carried back."""

    email: str
    authorization_urls: list[str] = field(default_factory=list)
    callbacks: list[dict[str, str]] = field(default_factory=list)
    consent_pages: list[str] = field(default_factory=list)

    async def redirect_handler(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        # Blocking I/O in the loop is fine here: the live server runs in its own thread.
        consented = browser_consent(authorization_url, email=self.email)
        self.consent_pages.append(consented.consent_page)
        self.callbacks.append(consented.params)

    async def callback_handler(self) -> AuthorizationCodeResult:
        params = self.callbacks[-1]
        return AuthorizationCodeResult(
            code=params["code"], state=params.get("state"), iss=params.get("iss")
        )


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    form: dict[str, str]
    authorization: str


async def _get_me(provider: OAuthClientProvider, url: str, log: list[Exchange]) -> httpx2.Response:
    """GET `url` through the provider, logging every request its auth flow makes."""

    async def record(response: httpx2.Response) -> None:
        request = response.request
        body = request.content.decode() if request.method == "POST" else ""
        form = {k: v[0] for k, v in parse_qs(body).items()} if "=" in body else {}
        log.append(
            Exchange(
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                form=form,
                authorization=request.headers.get("Authorization", "").split(" ")[0],
            )
        )

    async with httpx2.AsyncClient(
        auth=provider, event_hooks={"response": [record]}, timeout=30
    ) as client:
        response = await client.get(url)
        await response.aread()
        return response


def _calls(log: list[Exchange]) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in log]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("auth_method", "expected_method"),
    [(None, "client_secret_basic"), ("none", "none")],
    ids=["server-chosen-secret", "public-client"],
)
def test_official_mcp_python_client_against_live_server(
    live_server, settings, auth_method, expected_method
):
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    issuer, api, me_url = live_server.url, live_server.url + "/api", live_server.url + "/api/me"
    user = UserFactory()
    storage = MemoryStorage()
    browser = Browser(email=user.email)
    metadata = {"client_name": CLIENT_NAME, "redirect_uris": [REDIRECT_URI]}
    if auth_method is not None:
        metadata["token_endpoint_auth_method"] = auth_method
    provider = OAuthClientProvider(
        server_url=me_url,
        client_metadata=OAuthClientMetadata.model_validate(metadata),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )

    # 1. First call: 401, discovery, registration, login + consent, code exchange, retry.
    log: list[Exchange] = []
    response = asyncio.run(_get_me(provider, me_url, log))
    assert response.status_code == 200, response.text
    assert response.json()["email"] == user.email
    assert _calls(log) == [
        ("GET", "/api/me", 401),
        ("GET", "/.well-known/oauth-protected-resource/api", 200),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("POST", "/oauth/register", 201),
        ("POST", "/oauth/token", 200),
        ("GET", "/api/me", 200),
    ]

    # Registration: the client record the SDK stored is usable and bound to our issuer.
    client_info = storage.client_info
    assert client_info is not None
    assert client_info.issuer == issuer
    assert client_info.token_endpoint_auth_method == expected_method
    assert (client_info.client_secret is not None) == (expected_method != "none")
    registered = OAuthClient.objects.get(client_id=client_info.client_id)
    assert registered.client_name == CLIENT_NAME
    assert registered.redirect_uris == [REDIRECT_URI]
    assert set(registered.grant_types) == {"authorization_code", "refresh_token"}

    # Authorization request: PKCE S256, the PRM's resource, the PRM's scopes (no challenge scope).
    [authorization_url] = browser.authorization_urls
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
    assert authorization_url.startswith(issuer + "/oauth/authorize?")
    assert query["code_challenge_method"] == "S256"
    assert query["resource"] == api
    assert query["scope"].split() == list(OAUTH_SCOPES)
    assert query["redirect_uri"] == REDIRECT_URI
    assert CLIENT_NAME in browser.consent_pages[0]
    # The authorization response carried `iss`, byte-equal to the issuer; the SDK checked it.
    assert browser.callbacks[0]["iss"] == issuer
    assert browser.callbacks[0]["state"] == query["state"]

    # Code exchange: the SDK authenticated as registered and sent the resource indicator.
    exchange = log[4]
    assert exchange.form["grant_type"] == "authorization_code"
    assert exchange.form["resource"] == api
    assert exchange.authorization == ("Basic" if expected_method == "client_secret_basic" else "")
    first = storage.tokens
    assert first is not None and first.refresh_token
    assert first.token_type == "Bearer"
    assert first.scope.split() == list(OAUTH_SCOPES)
    grant = Grant.objects.get(user=user, client=registered)
    assert grant.status == TokenStatus.ACTIVE
    assert grant.authorization_status == AuthorizationStatus.AUTHORIZED
    assert grant.resource == [api]
    bound = AccessToken.objects.filter(oauth_token=grant).values_list("resource", flat=True)
    assert list(bound) == [[api]]

    _expire_refresh_and_replay(provider, storage, browser, grant=grant, user=user, issuer=issuer)


def _expire_refresh_and_replay(
    provider: OAuthClientProvider, storage: MemoryStorage, browser: Browser, *, grant, user, issuer
) -> None:
    """The access token expires: on the server, and on the client's clock (the provider keeps
    the expiry it computed from `expires_in` in its context). The next call refreshes first,
    without a new consent; the rotated refresh token is then spent, and replaying it kills the
    whole OAuth token (OAuth 2.1 §4.3.1)."""
    api, me_url = issuer + "/api", issuer + "/api/me"
    first, client_info = storage.tokens, storage.client_info
    AccessToken.objects.filter(oauth_token=grant).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = requests.get(
        me_url, headers={"Authorization": f"Bearer {first.access_token}"}, timeout=30
    )
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    provider.context.token_expiry_time = time.time() - 1

    log: list[Exchange] = []
    response = asyncio.run(_get_me(provider, me_url, log))
    assert response.status_code == 200, response.text
    assert response.json()["email"] == user.email
    assert _calls(log) == [("POST", "/oauth/token", 200), ("GET", "/api/me", 200)]
    assert log[0].form["grant_type"] == "refresh_token"
    assert log[0].form["refresh_token"] == first.refresh_token
    assert log[0].form["resource"] == api
    assert len(browser.authorization_urls) == 1  # refreshed, not sent through consent again
    second = storage.tokens
    assert second is not None
    assert second.access_token != first.access_token
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert Grant.objects.filter(pk=grant.pk).count() == 1  # still the same OAuth token

    secret = {"client_secret": client_info.client_secret} if client_info.client_secret else {}
    replay = requests.post(
        issuer + "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
            "client_id": client_info.client_id,
            **secret,
        },
        timeout=30,
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    after = requests.get(
        me_url, headers={"Authorization": f"Bearer {second.access_token}"}, timeout=30
    )
    assert after.status_code == 401
    assert not Grant.objects.filter(pk=grant.pk).exists()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_official_mcp_python_client_with_a_client_id_metadata_document(
    live_server, settings, documents
):
    """The SDK's preferred registration: its `client_id` is the URL of a Client ID Metadata
    Document (served by the test over HTTPS on loopback). The server advertises support, so the
    SDK skips registration; the server fetches the document and the user consents as usual."""
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    issuer, me_url = live_server.url, live_server.url + "/api/me"
    client_id = documents.document(
        "/mcp/client.json",
        {
            "client_id": documents.base + "/mcp/client.json",
            "client_name": CLIENT_NAME,
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
        headers={"Cache-Control": "max-age=300"},
    )
    user = UserFactory()
    storage = MemoryStorage()
    browser = Browser(email=user.email)
    provider = OAuthClientProvider(
        server_url=me_url,
        client_metadata=OAuthClientMetadata(client_name=CLIENT_NAME, redirect_uris=[REDIRECT_URI]),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
        client_metadata_url=client_id,
    )

    log: list[Exchange] = []
    response = asyncio.run(_get_me(provider, me_url, log))
    assert response.status_code == 200, response.text
    assert response.json()["email"] == user.email
    assert _calls(log) == [
        ("GET", "/api/me", 401),
        ("GET", "/.well-known/oauth-protected-resource/api", 200),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("POST", "/oauth/token", 200),
        ("GET", "/api/me", 200),
    ]
    assert log[3].form["client_id"] == client_id
    [authorization_url] = browser.authorization_urls
    assert parse_qs(urlsplit(authorization_url).query)["client_id"] == [client_id]
    assert "Client information published by <strong>127.0.0.1</strong>" in browser.consent_pages[0]
    assert browser.callbacks[0]["iss"] == issuer
    client = OAuthClient.objects.get(client_id=client_id)
    assert client.registration == ClientRegistration.METADATA_DOCUMENT
    assert documents.hits["/mcp/client.json"] == 1  # cached per Cache-Control
    grant = Grant.objects.get(user=user, client=client)

    _expire_refresh_and_replay(provider, storage, browser, grant=grant, user=user, issuer=issuer)
