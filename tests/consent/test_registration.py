"""Dynamic Client Registration (RFC 7591) and the admin's clients."""

import json

import pytest
from django.test import Client

from consent.models import ClientRegistration, OAuthClient
from tests.consent.helpers import authorize_params, consent, exchange, logged_in, pkce_pair
from tests.factories import OAuthClientFactory, UserFactory
from tokens.secrets import secret_digest


def _register(body) -> tuple[int, dict]:
    payload = body if isinstance(body, str) else json.dumps(body)
    response = Client().post("/oauth/register", payload, content_type="application/json")
    assert response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def test_public_client_registration_returns_201_with_metadata(db):
    status, body = _register(
        {
            "client_name": "My MCP Client",
            "redirect_uris": ["http://localhost:3030/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "only.User.read all.Application.read",
            "logo_uri": "https://tool.example/logo.png",
            "client_uri": "https://tool.example",
            "contacts": ["dev@tool.example"],
            "application_type": "native",
        }
    )
    assert status == 201
    assert set(body) == {
        "client_id",
        "client_id_issued_at",
        "client_name",
        "redirect_uris",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
        "scope",
        "logo_uri",
        "client_uri",
    }
    assert body["redirect_uris"] == ["http://localhost:3030/callback"]
    assert body["token_endpoint_auth_method"] == "none"
    client = OAuthClient.objects.get(client_id=body["client_id"])
    assert client.registration == ClientRegistration.DYNAMIC
    assert client.contacts == ["dev@tool.example"]
    assert client.client_secret_digest == ""


def test_confidential_registration_shows_the_secret_once_and_stores_its_sha256(db):
    status, body = _register(
        {"client_name": "Server App", "redirect_uris": ["https://app.example/cb"]}
    )
    assert status == 201
    assert body["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591 §2 default
    assert body["grant_types"] == ["authorization_code"]
    assert body["client_secret"].startswith("ocs_") and len(body["client_secret"]) >= 47
    assert body["client_secret_expires_at"] == 0
    client = OAuthClient.objects.get(client_id=body["client_id"])
    assert client.client_secret_digest == secret_digest(body["client_secret"])
    assert body["client_secret"] not in json.dumps(list(OAuthClient.objects.values()), default=str)


@pytest.mark.parametrize(
    "uris",
    [
        ["http://evil.example/cb"],
        ["https://app.example/cb#frag"],
        [],
        "https://app.example/cb",
        ["custom-scheme:/cb"],
        [f"https://app.example/cb{i}" for i in range(26)],
        ["https://user:pw@app.example/cb"],
    ],
)
def test_bad_redirect_uris_are_invalid_redirect_uri(db, uris):
    status, body = _register({"client_name": "X", "redirect_uris": uris})
    assert status == 400
    assert body["error"] == "invalid_redirect_uri"
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"logo_uri": "javascript:alert(1)"},
        {"logo_uri": "data:text/html,<script>"},
        {"client_uri": "javascript:alert(1)"},
        {"tos_uri": "ftp://x.example/tos"},
        {"client_name": "Losant Official"},
        {"client_name": "Admin"},
        {"client_name": "support@company.example"},
        {"client_name": "Evil\u202eTool"},
        {"client_name": 42},
        {"scope": "all.User"},
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["refresh_token"]},
        {"response_types": ["token"]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"contacts": ["not-an-email"]},
    ],
)
def test_bad_metadata_is_invalid_client_metadata(db, extra):
    status, body = _register(
        {"client_name": "Tool", "redirect_uris": ["https://a.example/cb"], **extra}
    )
    assert status == 400
    assert body["error"] == "invalid_client_metadata"
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", "[" * 50000, '"\\ud800"'])
def test_bodies_that_are_not_json_objects_are_invalid_client_metadata(db, payload):
    status, body = _register(payload)
    assert status == 400
    assert body["error"] == "invalid_client_metadata"


def test_a_dynamic_client_cannot_take_the_name_of_a_verified_client(db):
    OAuthClientFactory(client_name="Acme Assistant")
    status, body = _register(
        {"client_name": "acme assistant", "redirect_uris": ["https://a.example/cb"]}
    )
    assert status == 400
    assert body["error"] == "invalid_client_metadata"


def test_a_registered_client_completes_the_flow(db):
    status, body = _register(
        {
            "client_name": "Fresh Tool",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }
    )
    client_app = OAuthClient.objects.get(client_id=body["client_id"])
    verifier, challenge = pkce_pair()
    user = UserFactory()
    query = consent(
        logged_in(user),
        authorize_params(client_app, challenge, redirect_uri="http://127.0.0.1:8123/callback"),
    )
    result = exchange(
        Client(), client_app, query["code"], verifier, redirect_uri="http://127.0.0.1:8123/callback"
    )
    assert result["status"] == 200


def test_registration_only_accepts_post(db):
    assert Client().get("/oauth/register").status_code == 405


def test_admin_creates_a_confidential_client_and_sees_the_secret_once(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    response = browser.post(
        "/admin/consent/oauthclient/add/",
        {
            "client_name": "Official Partner",
            "redirect_uris_text": "https://partner.example/cb\nhttp://localhost/cb",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "",
            "client_uri": "",
            "logo_uri": "",
            "tos_uri": "",
            "policy_uri": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    client = OAuthClient.objects.get()
    assert client.registration == ClientRegistration.ADMIN
    assert client.client_id == client.id
    assert client.redirect_uris == ["https://partner.example/cb", "http://localhost/cb"]
    messages = [str(m) for m in response.context["messages"]]
    secret = next(word for m in messages for word in m.split() if word.startswith("ocs_"))
    assert client.client_secret_digest == secret_digest(secret)
    change = browser.get(f"/admin/consent/oauthclient/{client.pk}/change/").content.decode()
    assert secret not in change
    assert client.client_secret_digest not in change


def test_admin_refuses_an_http_redirect_outside_loopback(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    response = browser.post(
        "/admin/consent/oauthclient/add/",
        {
            "client_name": "Partner",
            "redirect_uris_text": "http://partner.example/cb",
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert response.status_code == 200
    assert "only allowed for localhost" in response.content.decode()
    assert not OAuthClient.objects.exists()
