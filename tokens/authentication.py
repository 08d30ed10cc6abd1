"""Who is calling: resolve a bearer credential to a Principal. This is the hot path of every API
request, so each credential kind is one indexed query on its SHA-256 digest, with no cache: a
deactivated, deleted or expired token fails on the very next request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from accounts.roles import RoleCap
from tokens.models import (
    AccessToken,
    ApiToken,
    ApiTokenOwnerType,
    AuthorizationStatus,
    OAuthToken,
    TokenStatus,
)
from tokens.secrets import SecretKind, secret_digest

PrincipalKind = Literal["session", "oauth", "user_api", "application_api"]
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `scope` None means unrestricted (the user's own session)."""

    kind: PrincipalKind
    user: User | None
    scope: frozenset[str] | None
    cap: RoleCap | None
    token_id: str | None = None
    application_id: str | None = None
    client_id: str | None = None

    @property
    def is_oauth(self) -> bool:
        return self.kind == "oauth"


def session_principal(user: User) -> Principal:
    return Principal(kind="session", user=user, scope=None, cap=None)


def active_access_token(raw: str, *, now=None) -> AccessToken | None:
    """The access token for `raw` if it and its OAuth token are usable right now, else None.

    Usable: not expired; OAuth token active, authorized and not expired; user active.
    One query (access token + OAuth token + user + client).
    """
    if not raw.startswith(SecretKind.ACCESS_TOKEN.value):
        return None
    now = now or timezone.now()
    token = (
        AccessToken.objects.select_related("oauth_token__user", "oauth_token__client")
        .filter(digest=secret_digest(raw))
        .first()
    )
    if token is None or token.expires_at <= now:
        return None
    grant = token.oauth_token
    if (
        grant.status != TokenStatus.ACTIVE
        or grant.authorization_status != AuthorizationStatus.AUTHORIZED
        or (grant.expiration_date is not None and grant.expiration_date <= now)
        or not grant.user.is_active
    ):
        return None
    return token


def active_api_token(raw: str, *, now=None) -> ApiToken | None:
    """The user or application API token for `raw` if active and unexpired, else None."""
    if not raw.startswith(
        (SecretKind.USER_API_TOKEN.value, SecretKind.APPLICATION_API_TOKEN.value)
    ):
        return None
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=secret_digest(raw)).first()
    if (
        token is None
        or token.status != TokenStatus.ACTIVE
        or (token.expiration_date is not None and token.expiration_date <= now)
        or (token.user is not None and not token.user.is_active)
    ):
        return None
    return token


def principal_from_bearer(raw: str, *, resource: str | None = None) -> Principal | None:
    """Resolve a bearer credential. OAuth access tokens must be bound to `resource` (RFC 8707);
    it defaults to this server's API (`PUBLIC_URL/api`)."""
    now = timezone.now()
    access = active_access_token(raw, now=now)
    if access is not None:
        if (resource or settings.API_RESOURCE_URL) not in access.resource:
            return None
        grant = access.oauth_token
        _touch(OAuthToken, grant.pk, grant.last_used, now)
        return Principal(
            kind="oauth",
            user=grant.user,
            scope=frozenset(access.scope),
            cap=RoleCap(grant.default_role, grant.org_roles),
            token_id=grant.pk,
            client_id=grant.client.client_id,
        )
    api_token = active_api_token(raw, now=now)
    if api_token is None:
        return None
    _touch(ApiToken, api_token.pk, api_token.last_used, now)
    is_user = api_token.owner_type == ApiTokenOwnerType.USER
    return Principal(
        kind="user_api" if is_user else "application_api",
        user=api_token.user,
        scope=frozenset(api_token.scope),
        cap=RoleCap(api_token.default_role, api_token.org_roles),
        token_id=api_token.pk,
        application_id=api_token.application_id,
    )


def _touch(model, pk: str, last_used, now) -> None:
    """Record last use at most once a minute per token: one conditional UPDATE, rarely."""
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        model.objects.filter(pk=pk).update(last_used=now)
