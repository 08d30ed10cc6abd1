"""Shared fixtures of the API tests: bearer tokens of every kind, made directly in the database
(digest only, like the real services), and a JSON client."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.principals import admin_principal
from tests.factories import OAuthClientFactory
from tokens.models import AccessToken, AuthorizationStatus, OAuthToken
from tokens.secrets import SecretKind, secret_digest, secret_generate
from tokens.services.api_tokens import api_token_create


class ApiClient:
    """Django's test client speaking JSON, with an optional bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, method: str, path: str, *, token: str | None = None, body=None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        data = json.dumps(body) if body is not None else None
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return getattr(self.client, method.lower())(
            "/api" + path, data=data, **kwargs, **headers, **extra
        )

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw):
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


def make_oauth_bearer(
    user,
    scope: list[str],
    *,
    default_role: str = "admin",
    org_roles: list | None = None,
    client=None,
    resource: list[str] | None = None,
) -> tuple[str, OAuthToken]:
    """An authorized, active OAuth token for `user` and one access token of it."""
    grant = OAuthToken.objects.create(
        user=user,
        client=client or OAuthClientFactory(),
        name="MCP client",
        scope=scope,
        default_role=default_role,
        org_roles=org_roles or [],
        authorization_status=AuthorizationStatus.AUTHORIZED,
        redirect_uri="https://client.example/callback",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        resource=[settings.API_RESOURCE_URL],
    )
    raw = secret_generate(SecretKind.ACCESS_TOKEN)
    AccessToken.objects.create(
        oauth_token=grant,
        digest=secret_digest(raw),
        scope=scope,
        resource=resource if resource is not None else [settings.API_RESOURCE_URL],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return raw, grant


@pytest.fixture
def oauth_bearer(db):
    """`oauth_bearer(user, scope, default_role=..., org_roles=...) -> raw access token`."""

    def make(user, scope, **kwargs) -> str:
        return make_oauth_bearer(user, scope, **kwargs)[0]

    return make


@pytest.fixture
def api_bearer(db):
    """`api_bearer(owner, scope, creator=..., default_role=..., org_roles=...) -> raw token`,
    for a user (user API token) or an application (application API token)."""

    def make(owner, scope, *, creator=None, default_role="admin", org_roles=None) -> str:
        _token, raw = api_token_create(
            owner=owner,
            creator=creator or owner,  # an application token needs creator= (a user)
            actor=admin_principal(creator or owner),  # test set-up: any token, unchecked
            name="Test token",
            scope=scope,
            default_role=default_role,
            org_roles=org_roles or [],
        )
        return raw

    return make


def bearer_any(kind: str, user, application, scope, **kwargs) -> str:
    """A bearer of `kind` ("oauth", "user_api" or "application_api") with `scope`."""
    if kind == "oauth":
        return make_oauth_bearer(user, scope, **kwargs)[0]
    owner = user if kind == "user_api" else application
    _token, raw = api_token_create(
        owner=owner,
        creator=user,
        actor=admin_principal(user),
        name="Test token",
        scope=scope,
        **kwargs,
    )
    return raw
