"""Our models seen through Authlib's mixins: clients (RFC 6749 §2), authorization codes
(§4.1.2) and access and refresh tokens for refresh (§6), revocation (RFC 7009) and introspection
(RFC 7662). The models stay free of Authlib."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    TokenMixin,
)
from django.conf import settings

from apikit.scopes import OAUTH_SCOPES
from consent import selectors
from consent.models import ClientAuthMethod, OAuthClient
from tokens.authentication import active_access_token
from tokens.models import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
)
from tokens.redirects import redirect_uri_matches
from tokens.secrets import SecretKind, secret_matches
from tokens.services.grants import (
    access_token_revoke,
    refresh_token_revoke,
)

# --- Adapters: models seen through Authlib's mixins ------------------------------------------


class Client(ClientMixin):
    def __init__(self, model: OAuthClient) -> None:
        self.model = model

    def get_client_id(self) -> str:
        return self.model.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1 §4.1.1: redirect_uri may be omitted only when exactly one is registered.
        uris = self.model.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope; when none was requested (RFC 6749 §3.3 lets the server pick a
        default, and MCP clients often send none), the client's registered scope, else
        OAUTH_DEFAULT_SCOPE. None (invalid_scope) when it asks beyond its registration
        (OAuth 2.1 §7.9) or for a scope this server does not know."""
        registered = self.model.scope.split()
        requested = (
            list(dict.fromkeys((scope or "").split()))
            or registered
            or settings.OAUTH_DEFAULT_SCOPE.split()
        )
        if not requested or (registered and not set(requested) <= set(registered)):
            return None
        if not set(requested) <= set(OAUTH_SCOPES):
            return None
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return isinstance(redirect_uri, str) and redirect_uri_matches(
            self.model.redirect_uris, redirect_uri
        )

    def check_client_secret(self, client_secret: str) -> bool:
        digest = self.model.client_secret_digest
        return bool(digest) and secret_matches(client_secret, digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Public clients only as `none`; confidential ones with either secret method.
        if method == ClientAuthMethod.NONE:
            return self.model.is_public
        return not self.model.is_public

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "code" in (self.model.response_types or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.model.grant_types or ["authorization_code"])


class Code(AuthorizationCodeMixin):
    def __init__(self, model: AuthorizationCode) -> None:
        self.model = model
        self.code_challenge = model.code_challenge
        self.code_challenge_method = model.oauth_token.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.model.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.model.oauth_token.scope)


class Credential(TokenMixin):
    """An access or refresh token for revocation, introspection and refresh requests."""

    def __init__(self, model: AccessToken | RefreshToken, *, active: bool) -> None:
        self.model = model
        self.grant = model.oauth_token
        self.active = active

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.model.pk

    def get_scope(self) -> str:
        return " ".join(self.model.scope)

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active

    def revoke(self) -> None:
        if isinstance(self.model, AccessToken):
            access_token_revoke(access_token=self.model)
        else:
            refresh_token_revoke(refresh_token=self.model)

    def introspection(self) -> dict:
        """RFC 7662 §2.2 for an active token."""
        body = {
            "active": True,
            "scope": self.get_scope(),
            "client_id": self.grant.client.client_id,
            "sub": self.grant.user_id,
            "aud": list(self.model.resource),
            "iss": settings.PUBLIC_URL,
            "iat": int(self.model.creation_date.timestamp()),
            "token_type": "Bearer" if isinstance(self.model, AccessToken) else "refresh_token",
        }
        if isinstance(self.model, AccessToken):
            body["exp"] = int(self.model.expires_at.timestamp())
        elif self.grant.expiration_date is not None:
            body["exp"] = int(self.grant.expiration_date.timestamp())
        return body


def credential_find(raw: str, *, active_only: bool) -> Credential | None:
    """Find an access or refresh token by value; `active_only` applies the API's rules."""
    if raw.startswith(SecretKind.ACCESS_TOKEN.value):
        if active_only:
            access = active_access_token(raw)
            return Credential(access, active=True) if access else None
        access = selectors.access_token_by_value(raw)
        return Credential(access, active=True) if access else None
    refresh = selectors.refresh_token_by_value(raw)
    if refresh is None:
        return None
    # The grant's usability comes with the lookup (tokens.selectors.GRANT_USABLE).
    return Credential(refresh, active=refresh.used_at is None and refresh.oauth_token.usable)
