"""The official MCP TypeScript SDK (`@modelcontextprotocol/sdk`, pinned in tests/interop/package.json,
installed by `make test` from the lock file) against a live server. `mcp_ts_client.mjs` calls the
SDK's auth functions step by step and reports each outcome as a JSON line; this test plays the
user (login + consent over HTTP), passes the redirect back on stdin, and checks every step."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from apikit.scopes import OAUTH_SCOPES
from consent.models import ClientRegistration, OAuthClient
from tests.factories import UserFactory
from tests.interop.browser import browser_consent
from tokens.models import AccessToken, TokenEvent
from tokens.models import OAuthToken as Grant

INTEROP_DIR = Path(__file__).resolve().parent
SCRIPT = INTEROP_DIR / "mcp_ts_client.mjs"
AUTH_SCRIPT = INTEROP_DIR / "mcp_ts_auth.mjs"
REDIRECT_URI = "http://127.0.0.1:33419/callback"
CLIENT_NAME = "MCP TypeScript Interop Client"
STEP_TIMEOUT = 60


class NodeClient:
    """The Node script as a child process: JSON lines out, the redirect URL in."""

    def __init__(self, script: Path, *args: str) -> None:
        node = shutil.which("node")
        assert node, "Node.js is required for the TypeScript interop test"
        assert (INTEROP_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), (
            "run `make test` (or `npm ci` in tests/interop) to install the pinned SDK"
        )
        self.process = subprocess.Popen(
            [node, str(script), *args],
            cwd=INTEROP_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.steps: list[dict] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, step: str) -> dict:
        """Read reports up to and including `step`; fail on the script's error or exit."""
        while True:
            line = self.lines.get(timeout=STEP_TIMEOUT)
            if line is None:
                raise AssertionError(f"script ended before {step!r}: {self.stderr()}")
            report = json.loads(line)
            self.steps.append(report)
            assert report["step"] != "error", report
            if report["step"] == step:
                return report

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stderr(self) -> str:
        self.process.kill()
        return self.process.stderr.read()

    def reports(self, step: str) -> list[dict]:
        return [report for report in self.steps if report["step"] == step]

    def close(self) -> int:
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=STEP_TIMEOUT)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["none", "client_secret_post", "metadata-document"])
def test_official_mcp_typescript_sdk_against_live_server(live_server, settings, request, mode):
    """Registered as a public client, as a confidential one (the SDK's example client uses
    client_secret_post), or identified by a Client ID Metadata Document served on loopback."""
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    issuer, api, me_url = live_server.url, live_server.url + "/api", live_server.url + "/api/me"
    document_url = None
    if mode == "metadata-document":
        documents = request.getfixturevalue("documents")
        document_url = documents.document(
            "/mcp/ts-client.json",
            {
                "client_id": documents.base + "/mcp/ts-client.json",
                "client_name": CLIENT_NAME,
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            },
        )
    auth_method = "none" if document_url else mode
    user = UserFactory()
    node = NodeClient(SCRIPT, me_url, auth_method, *([document_url] if document_url else []))
    try:
        _check_flow(
            node,
            user=user,
            issuer=issuer,
            api=api,
            auth_method=auth_method,
            document_url=document_url,
        )
    finally:
        returncode = node.close()
    assert returncode == 0


def _check_flow(
    node: NodeClient, *, user, issuer: str, api: str, auth_method: str, document_url: str | None
) -> None:
    # The 401 challenge names the protected resource metadata, without an error (no token sent).
    challenge = node.until("challenge")
    assert challenge["status"] == 401
    assert challenge["resource_metadata"] == issuer + "/.well-known/oauth-protected-resource/api"
    assert challenge["error"] is None

    prm = node.until("protected_resource")
    assert prm["resource"] == api
    assert prm["authorization_servers"] == [issuer]
    assert prm["bearer_methods_supported"] == ["header"]
    metadata = node.until("authorization_server")["metadata"]
    assert metadata["issuer"] == issuer
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]

    registered = node.until("registered")
    assert registered["metadata_document"] is bool(document_url)
    assert registered["has_client_secret"] is (auth_method != "none")
    if document_url:
        assert metadata["client_id_metadata_document_supported"] is True
        assert registered["client_id"] == document_url
    else:
        assert registered["token_endpoint_auth_method"] == auth_method
        client = OAuthClient.objects.get(client_id=registered["client_id"])
        assert client.registration == ClientRegistration.DYNAMIC
        assert client.client_name == CLIENT_NAME
        assert client.token_endpoint_auth_method == auth_method

    # The user opens the authorization URL, logs in and consents; the redirect goes back.
    authorization_url = node.until("authorization_url")["url"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
    assert authorization_url.startswith(metadata["authorization_endpoint"] + "?")
    assert query["resource"] == api
    assert query["code_challenge_method"] == "S256"
    assert query["scope"].split() == list(OAUTH_SCOPES)
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["client_id"] == registered["client_id"]
    consented = browser_consent(authorization_url, email=user.email)
    assert CLIENT_NAME in consented.consent_page
    client = OAuthClient.objects.get(client_id=registered["client_id"])
    if document_url:  # fetched by the server at the authorization request
        assert client.registration == ClientRegistration.METADATA_DOCUMENT
        assert (
            "Client information published by <strong>127.0.0.1</strong>" in consented.consent_page
        )
    node.send(consented.location)
    callback = node.until("callback")
    assert callback == {
        "step": "callback",
        "redirect_matches": True,
        "state_matches": True,
        "iss": issuer,
        "iss_matches": True,
        "error": None,
        "has_code": True,
    }

    tokens = node.until("tokens")
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"].split() == list(OAUTH_SCOPES)
    assert tokens["expires_in"] == 3600
    issued = AccessToken.objects.get(digest=tokens["access_token"])
    assert issued.resource == [api]
    grant = issued.oauth_token
    assert (grant.user_id, grant.client_id) == (user.pk, client.pk)
    me = node.until("api")
    assert (me["after"], me["status"], me["body"]["email"]) == ("exchange", 200, user.email)

    refreshed = node.until("refreshed")
    assert refreshed["rotated"] is True
    assert refreshed["token_type"] == "Bearer"
    assert AccessToken.objects.get(digest=refreshed["access_token"]).oauth_token_id == grant.pk
    me = node.until("api")
    assert (me["after"], me["status"]) == ("refresh", 200)

    # The old refresh token: invalid_grant, and the whole OAuth token is gone with it.
    reuse = node.until("reuse")
    assert reuse["failed"] is True
    assert (reuse["name"], reuse["error"]) == ("InvalidGrantError", "invalid_grant")
    me = node.until("api")
    assert (me["after"], me["status"]) == ("reuse", 401)
    assert 'error="invalid_token"' in me["challenge"]
    after = node.until("refresh_after_reuse")
    assert (after["failed"], after["error"]) == (True, "invalid_grant")
    node.until("done")
    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert TokenEvent.objects.filter(
        token_id=grant.pk, detail__reason="rotated refresh token reused"
    ).exists()

    # Every request the SDK made, in order, with the client authentication it chose.
    http = [(r["method"], r["path"], r["status"], r["grant_type"]) for r in node.reports("http")]
    registration = [] if document_url else [("POST", "/oauth/register", 201, None)]
    assert http == [
        ("GET", "/.well-known/oauth-protected-resource/api", 200, None),
        ("GET", "/.well-known/oauth-authorization-server", 200, None),
        *registration,
        ("POST", "/oauth/token", 200, "authorization_code"),
        ("POST", "/oauth/token", 200, "refresh_token"),
        ("POST", "/oauth/token", 400, "refresh_token"),
        ("POST", "/oauth/token", 400, "refresh_token"),
    ]
    token_requests = [r for r in node.reports("http") if r["path"] == "/oauth/token"]
    assert all(r["resource"] == api for r in token_requests)
    assert not any(r["basic_auth"] for r in token_requests)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("line", ["v1", "v2"])
def test_typescript_sdk_auth_orchestrator_against_live_server(live_server, settings, line):
    """`auth()`, as the SDK's transports run it: discovery without a `resource_metadata` hint
    (path-inserted PRM URL for /api/me is 404, the root form answers), registration, code
    exchange, a refresh, and a stale refresh token that makes the SDK start over. v1 is
    `@modelcontextprotocol/sdk`; v2 (`@modelcontextprotocol/client`) also rejects a metadata
    issuer that differs from the discovery URL and an `iss` that differs from the issuer."""
    settings.PUBLIC_URL = live_server.url
    settings.API_RESOURCE_URL = live_server.url + "/api"
    issuer, api, me_url = live_server.url, live_server.url + "/api", live_server.url + "/api/me"
    user = UserFactory()
    node = NodeClient(AUTH_SCRIPT, me_url, line)
    try:
        redirect = node.until("redirect")
        assert redirect["result"] == "REDIRECT"
        assert redirect["client_issuer"] == issuer
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect["url"]).query).items()}
        assert query["resource"] == api
        assert query["scope"].split() == list(OAUTH_SCOPES)
        assert query["client_id"] == redirect["client_id"]
        node.send(browser_consent(redirect["url"], email=user.email).location)
        assert node.until("callback") == {"step": "callback", "state_matches": True, "iss": issuer}

        authorized = node.until("authorized")
        assert (authorized["result"], authorized["token_type"]) == ("AUTHORIZED", "Bearer")
        assert authorized["issuer"] == issuer
        grant = AccessToken.objects.get(digest=authorized["access_token"]).oauth_token
        assert node.until("api")["status"] == 200

        refreshed = node.until("refreshed")
        assert (refreshed["result"], refreshed["rotated"]) == ("AUTHORIZED", True)
        assert AccessToken.objects.get(digest=refreshed["access_token"]).oauth_token_id == grant.pk
        assert node.until("api")["status"] == 200

        # invalid_grant: the SDK drops its tokens and asks the user again; the grant is gone.
        stale = node.until("stale_refresh")
        assert stale == {
            "step": "stale_refresh",
            "result": "REDIRECT",
            "invalidated": ["tokens"],
            "authorization_urls": 2,
        }
        assert node.until("api")["status"] == 401
        node.until("done")
        assert not Grant.objects.filter(pk=grant.pk).exists()
    finally:
        returncode = node.close()
    assert returncode == 0
    http = [(r["method"], r["path"], r["status"], r["grant_type"]) for r in node.reports("http")]
    discovery = [
        ("GET", "/.well-known/oauth-protected-resource/api/me", 404, None),
        ("GET", "/.well-known/oauth-protected-resource", 200, None),
        ("GET", "/.well-known/oauth-authorization-server", 200, None),
    ]
    assert http == [
        *discovery,
        ("POST", "/oauth/register", 201, None),
        *discovery,
        ("POST", "/oauth/token", 200, "authorization_code"),
        *discovery,
        ("POST", "/oauth/token", 200, "refresh_token"),
        *discovery,
        ("POST", "/oauth/token", 400, "refresh_token"),
        *discovery,
    ]
    assert {r["resource"] for r in node.reports("http") if r["path"] == "/oauth/token"} == {api}
