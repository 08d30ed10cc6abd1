"""RFC 8414 metadata, RFC 9728 protected resource metadata, CORS (RFC 9700 §2.6)."""

import pytest
from django.test import Client

from apikit.scopes import OAUTH_SCOPES

SEVEN_SCOPES = [
    "all.Application.read",
    "all.Application.bounded",
    "only.Organization.read",
    "only.Organization.bounded",
    "all.Organization.read",
    "all.Organization.bounded",
    "only.User.read",
]


def test_authorization_server_metadata_lists_every_required_field(db, settings):
    response = Client().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    issuer = settings.PUBLIC_URL
    assert response.json() == {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "registration_endpoint": f"{issuer}/oauth/register",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "scopes_supported": SEVEN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }
    assert list(OAUTH_SCOPES) == SEVEN_SCOPES


def test_issuer_follows_public_url_at_request_time(db, settings):
    settings.PUBLIC_URL = "https://auth.example.test"
    settings.API_RESOURCE_URL = "https://auth.example.test/api"
    body = Client().get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "https://auth.example.test"
    assert body["token_endpoint"] == "https://auth.example.test/oauth/token"
    prm = Client().get("/.well-known/oauth-protected-resource/api").json()
    assert prm["authorization_servers"] == ["https://auth.example.test"]
    assert prm["resource"] == "https://auth.example.test/api"


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/api", "/.well-known/oauth-protected-resource"]
)
def test_protected_resource_metadata_names_the_api_and_the_identical_issuer(db, settings, path):
    response = Client().get(path)
    assert response.status_code == 200
    body = response.json()
    issuer = Client().get("/.well-known/oauth-authorization-server").json()["issuer"]
    assert body["resource"] == settings.API_RESOURCE_URL == settings.PUBLIC_URL + "/api"
    assert body["authorization_servers"] == [issuer]
    assert body["scopes_supported"] == SEVEN_SCOPES
    assert body["bearer_methods_supported"] == ["header"]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource/api",
        "/oauth/token",
        "/oauth/register",
        "/oauth/revoke",
        "/oauth/introspect",
    ],
)
def test_cors_is_allowed_on_metadata_token_registration_revocation_introspection(db, path):
    response = Client().options(
        path,
        HTTP_ORIGIN="https://tool.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response["Access-Control-Allow-Origin"] == "*"


def test_cors_is_never_allowed_on_the_authorization_endpoint(db):
    preflight = Client().options(
        "/oauth/authorize",
        HTTP_ORIGIN="https://tool.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in preflight
    simple = Client().get("/oauth/authorize", HTTP_ORIGIN="https://tool.example")
    assert "Access-Control-Allow-Origin" not in simple
