import pytest
from django.utils import timezone

from accounts.principals import admin_principal
from accounts.roles import Role
from tests.factories import ApplicationFactory, MembershipFactory, OAuthClientFactory
from tokens.models import AuthorizationStatus, OAuthToken, TokenStatus
from tokens.services.api_tokens import api_token_create


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def htmx():
    """Headers htmx sends with every request it makes."""
    return {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(user, organization):
    """The user is an admin of one organization with two applications, and owns a Sandbox app."""
    MembershipFactory(user=user, organization=organization, role=Role.ADMIN)
    return {
        "org": organization,
        "apps": [
            ApplicationFactory(name="Alpha", organization=organization),
            ApplicationFactory(name="Beta", organization=organization),
        ],
        "sandbox_app": ApplicationFactory(name="Sandy", organization=None, sandbox_user=user),
    }


@pytest.fixture
def oauth_token_factory(user):
    def make(name="Claude Desktop", owner=None, client=None, **fields):
        fields.setdefault("authorization_status", AuthorizationStatus.AUTHORIZED)
        return OAuthToken.objects.create(
            user=owner or user,
            client=client or OAuthClientFactory(client_name="Acme MCP"),
            name=name,
            scope=fields.pop("scope", ["all.Application.read", "only.User.read"]),
            redirect_uri="https://client.example/callback",
            code_challenge="x" * 43,
            status=fields.pop("status", TokenStatus.ACTIVE),
            **fields,
        )

    return make


@pytest.fixture
def api_token_factory(user):
    def make(name="CI script", owner=None, **kwargs):
        owner = owner or user
        token, _secret = api_token_create(
            owner=owner, creator=user, actor=admin_principal(user), name=name, **kwargs
        )
        return token

    return make


@pytest.fixture
def expired(db):
    return timezone.now() - timezone.timedelta(days=1)
