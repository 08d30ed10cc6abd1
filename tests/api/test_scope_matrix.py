"""Every scope of the reference lists x every endpoint: allowed, or 403 insufficient_scope.

EXPECTED is written out by hand from losant-api-reference.md §3 (token endpoints, verbatim) and
§1.3/§4 (the resources: `all.` covers everything beneath, `only.` its own level, `.read` reads,
`.bounded` all but the sensitive actions), so it checks apikit/scopes.py rather than repeating it.
"""

from __future__ import annotations

import pytest

from apikit.scopes import ACCEPTED_SCOPES, API_TOKEN_SCOPES, OAUTH_SCOPES
from tests.api.conftest import make_oauth_bearer
from tests.factories import ApplicationFactory, MembershipFactory, OAuthClientFactory, UserFactory
from tokens.models import ApiToken, OAuthToken
from tokens.secrets import SecretKind, secret_digest, secret_generate

U6 = {
    "all.User",
    "all.User.bounded",
    "all.User.read",
    "only.User",
    "only.User.bounded",
    "only.User.read",
}
U_WRITE = {"all.User", "only.User"}
APP_READ = {
    "all.Application", "all.Application.bounded", "all.Application.read",
    "all.Organization", "all.Organization.bounded", "all.Organization.read",
    "all.User", "all.User.bounded", "all.User.read",
}  # fmt: skip
APP_SENSITIVE_WRITE = {"all.Application", "all.Organization", "all.User"}
ORG_ALL = {"all.Organization", "all.Organization.bounded", "all.Organization.read"}
ORG_ONLY = {"only.Organization", "only.Organization.bounded", "only.Organization.read"}
USER_ALL = {"all.User", "all.User.bounded", "all.User.read"}

EXPECTED: dict[str, set[str]] = {
    "userOauthTokens.get": U6 | {"userOauthTokens.*", "userOauthTokens.get"},
    "userOauthTokens.post": U_WRITE | {"userOauthTokens.*", "userOauthTokens.post"},
    "userOauthToken.get": U6 | {"userOauthToken.*", "userOauthToken.get"},
    "userOauthToken.patch": U_WRITE | {"userOauthToken.*", "userOauthToken.patch"},
    "userOauthToken.delete": U_WRITE | {"userOauthToken.*", "userOauthToken.delete"},
    "userApiTokens.get": U6 | {"userApiTokens.*", "userApiTokens.get"},
    "userApiTokens.post": U_WRITE | {"userApiTokens.*", "userApiTokens.post"},
    "userApiToken.get": U6 | {"userApiToken.*", "userApiToken.get"},
    "userApiToken.patch": U_WRITE | {"userApiToken.*", "userApiToken.patch"},
    "userApiToken.delete": U_WRITE | {"userApiToken.*", "userApiToken.delete"},
    "applicationApiTokens.get": APP_READ | {"applicationApiTokens.*", "applicationApiTokens.get"},
    "applicationApiTokens.post": APP_SENSITIVE_WRITE
    | {"applicationApiTokens.*", "applicationApiTokens.post"},
    "applicationApiToken.get": APP_READ | {"applicationApiToken.*", "applicationApiToken.get"},
    "applicationApiToken.patch": APP_SENSITIVE_WRITE
    | {"applicationApiToken.*", "applicationApiToken.patch"},
    "applicationApiToken.delete": APP_SENSITIVE_WRITE
    | {"applicationApiToken.*", "applicationApiToken.delete"},
    "me.get": U6 | {"me.*", "me.get"},
    "orgs.get": U6 | ORG_ALL | ORG_ONLY | {"orgs.*", "orgs.get"},
    "org.get": USER_ALL | ORG_ALL | ORG_ONLY | {"org.*", "org.get"},
    "org.patch": {
        "all.User",
        "all.User.bounded",
        "all.Organization",
        "all.Organization.bounded",
        "only.Organization",
        "only.Organization.bounded",
        "org.*",
        "org.patch",
    },  # fmt: skip
    # The Organization group's action (reference §4): no Application-level or .cli scope.
    "applications.get": USER_ALL | ORG_ALL | ORG_ONLY | {"applications.*", "applications.get"},
    "application.get": APP_READ
    | {"all.User.cli", "all.Application.cli", "application.*", "application.get"},
    "application.patch": {
        "all.Application",
        "all.Application.bounded",
        "all.Organization",
        "all.Organization.bounded",
        "all.User",
        "all.User.bounded",
        "all.User.cli",
        "all.Application.cli",
        "application.*",
        "application.patch",
    },  # fmt: skip
}
# Every scope of the API-token enum (which holds every scope the reference lists) and the 7
# OAuth scopes.
ALL_SCOPES = sorted(set(API_TOKEN_SCOPES) | set(OAUTH_SCOPES))
DENY_OAUTH = {
    "userOauthTokens.post", "userOauthToken.patch", "userOauthToken.delete",
    "userApiTokens.post", "userApiToken.patch", "userApiToken.delete",
}  # fmt: skip


def test_the_table_matches_the_reference():
    assert {action: set(scopes) for action, scopes in ACCEPTED_SCOPES.items()} == EXPECTED


class World:
    """The caller (admin of an org with an application) and the targets each endpoint needs."""

    def __init__(self) -> None:
        self.user = UserFactory()
        self.org = MembershipFactory(user=self.user, role="admin").organization
        self.app = ApplicationFactory(organization=self.org)
        self.client = OAuthClientFactory(redirect_uris=["https://example.com/cb"])

    def oauth_token(self) -> str:
        return make_oauth_bearer(self.user, ["only.User.read"], client=self.client)[1].pk

    def user_api_token(self) -> str:
        return self._api_token(user=self.user, owner_type="user")

    def app_api_token(self) -> str:
        return self._api_token(application=self.app, owner_type="application")

    def _api_token(self, **owner) -> str:
        return ApiToken.objects.create(
            **owner,
            creator_id=self.user.pk,
            creator_type="user",
            name="target",
            scope=["all.User"],
            digest=secret_digest(secret_generate(SecretKind.USER_API_TOKEN)),
        ).pk

    def snapshot(self) -> tuple:
        """What a rejected request must leave as it was (the callers' own tokens aside)."""
        self.org.refresh_from_db()
        self.app.refresh_from_db()
        return (
            self.org.name,
            self.app.name,
            sorted(ApiToken.objects.exclude(name="caller").values_list("id", "name", "status")),
            sorted(
                OAuthToken.objects.exclude(name="MCP client caller").values_list(
                    "id", "name", "status"
                )
            ),
        )

    def bearer(self, kind: str, scope: str) -> str:
        if kind == "oauth":
            raw, grant = make_oauth_bearer(self.user, [scope], client=self.client)
            OAuthToken.objects.filter(pk=grant.pk).update(name="MCP client caller")
            return raw
        raw = secret_generate(SecretKind.USER_API_TOKEN)
        ApiToken.objects.create(
            user=self.user,
            owner_type="user",
            creator_id=self.user.pk,
            creator_type="user",
            name="caller",
            scope=[scope],
            digest=secret_digest(raw),
        )
        return raw


# (action, method, path builder, body builder, success status)
OPERATIONS = [
    ("me.get", "GET", lambda w: "/me", None, 200),
    ("orgs.get", "GET", lambda w: "/orgs", None, 200),
    ("org.get", "GET", lambda w: f"/orgs/{w.org.pk}", None, 200),
    ("org.patch", "PATCH", lambda w: f"/orgs/{w.org.pk}", lambda w: {"name": "n"}, 200),
    ("applications.get", "GET", lambda w: "/applications", None, 200),
    ("application.get", "GET", lambda w: f"/applications/{w.app.pk}", None, 200),
    (
        "application.patch",
        "PATCH",
        lambda w: f"/applications/{w.app.pk}",
        lambda w: {"name": "n"},
        200,
    ),
    ("userOauthTokens.get", "GET", lambda w: "/me/oauth-tokens", None, 200),
    (
        "userOauthTokens.post",
        "POST",
        lambda w: "/me/oauth-tokens",
        lambda w: {
            "name": "n",
            "oauth": {
                "client_id": w.client.client_id,
                "redirect_uri": "https://example.com/cb",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
        },
        201,
    ),
    ("userOauthToken.get", "GET", lambda w: f"/me/oauth-tokens/{w.oauth_token()}", None, 200),
    (
        "userOauthToken.patch",
        "PATCH",
        lambda w: f"/me/oauth-tokens/{w.oauth_token()}",
        lambda w: {"name": "n"},
        200,
    ),
    ("userOauthToken.delete", "DELETE", lambda w: f"/me/oauth-tokens/{w.oauth_token()}", None, 200),
    ("userApiTokens.get", "GET", lambda w: "/me/tokens", None, 200),
    ("userApiTokens.post", "POST", lambda w: "/me/tokens", lambda w: {"name": "n"}, 201),
    ("userApiToken.get", "GET", lambda w: f"/me/tokens/{w.user_api_token()}", None, 200),
    (
        "userApiToken.patch",
        "PATCH",
        lambda w: f"/me/tokens/{w.user_api_token()}",
        lambda w: {"name": "n"},
        200,
    ),
    ("userApiToken.delete", "DELETE", lambda w: f"/me/tokens/{w.user_api_token()}", None, 200),
    ("applicationApiTokens.get", "GET", lambda w: f"/applications/{w.app.pk}/tokens", None, 200),
    (
        "applicationApiTokens.post",
        "POST",
        lambda w: f"/applications/{w.app.pk}/tokens",
        lambda w: {"name": "n"},
        201,
    ),
    (
        "applicationApiToken.get",
        "GET",
        lambda w: f"/applications/{w.app.pk}/tokens/{w.app_api_token()}",
        None,
        200,
    ),
    (
        "applicationApiToken.patch",
        "PATCH",
        lambda w: f"/applications/{w.app.pk}/tokens/{w.app_api_token()}",
        lambda w: {"name": "n"},
        200,
    ),
    (
        "applicationApiToken.delete",
        "DELETE",
        lambda w: f"/applications/{w.app.pk}/tokens/{w.app_api_token()}",
        None,
        200,
    ),
]


def test_every_endpoint_is_in_the_matrix():
    assert {op[0] for op in OPERATIONS} == set(EXPECTED)


@pytest.mark.parametrize("kind", ["user_api", "oauth"])
@pytest.mark.parametrize(
    ("action", "method", "path", "body", "ok"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_scope_matrix(api, db, kind, action, method, path, body, ok):
    world = World()
    scopes = ALL_SCOPES if kind == "user_api" else OAUTH_SCOPES
    outcomes = {}
    for scope in scopes:
        bearer = world.bearer(kind, scope)
        target = path(world)
        before = world.snapshot()
        response = api.call(method, target, token=bearer, body=body(world) if body else None)
        outcomes[scope] = response.status_code
        allowed = scope in EXPECTED[action] and not (kind == "oauth" and action in DENY_OAUTH)
        if allowed:
            assert response.status_code == ok, (scope, response.json())
        else:
            assert response.status_code == 403, (scope, response.json())
            assert world.snapshot() == before, scope
            if kind == "oauth" and action in DENY_OAUTH:
                assert "OAuth tokens cannot" in response.json()["message"]
            else:
                assert response.json()["message"] == "Insufficient scope for this operation"
                assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert any(status == 403 for status in outcomes.values())
    if kind == "user_api":
        assert any(status == ok for status in outcomes.values())
