"""Who is calling: resolve a bearer credential to a Principal. This is the hot path of every API
request, so each credential kind is one indexed query on its SHA-256 digest, with no cache: a
deactivated, deleted or expired token fails on the very next request.

On PostgreSQL an OAuth access token is resolved by one hand-written statement (`_OAUTH_SQL`):
access token + OAuth token + user + the client's id + the user's profile counts, only the
columns used. Building the equivalent ORM query cost more CPU than everything else in a
`GET /api/me` (docs/benchmarks.md); other databases take the ORM path with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Application, Membership, User
from accounts.roles import RoleCap
from config.prepared import columns, fetch_one, instance, json_value
from consent.models import OAuthClient
from tokens.models import (
    AccessToken,
    ApiToken,
    ApiTokenOwnerType,
    AuthorizationStatus,
    OAuthToken,
    TokenStatus,
)
from tokens.secrets import SecretKind, secret_digest

PrincipalKind = Literal["session", "admin", "oauth", "user_api", "application_api"]
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
    # The user's (sandbox application count, organization count), when the lookup had them.
    user_counts: tuple[int, int] | None = None

    @property
    def is_oauth(self) -> bool:
        return self.kind == "oauth"


def session_principal(user: User) -> Principal:
    return Principal(kind="session", user=user, scope=None, cap=None)


def admin_principal(user: User) -> Principal:
    """A staff member in the Django admin, which changes only a token's name, description and
    status: trusted with every token (tokens.ceiling), and audited like any change."""
    return Principal(kind="admin", user=user, scope=None, cap=None)


# Of the client, only its client_id (read here and by introspection, consent.oauth): every
# client column, its logo (up to a 32 KiB data: URI) included, cost CPU on each call (bench W4).
_ACCESS_LOOKUP = AccessToken.objects.select_related(
    "oauth_token__user", "oauth_token__client"
).only(
    *[f.name for f in AccessToken._meta.concrete_fields],
    *[f"oauth_token__{f.name}" for f in OAuthToken._meta.concrete_fields],
    *[f"oauth_token__user__{f.name}" for f in User._meta.concrete_fields],
    "oauth_token__client__client_id",
)


def active_access_token(raw: str, *, now=None) -> AccessToken | None:
    """The access token for `raw` if it and its OAuth token are usable right now, else None.

    Usable: not expired; OAuth token active, authorized and not expired; user active.
    One query (access token + OAuth token + user + client).
    """
    if not raw.startswith(SecretKind.ACCESS_TOKEN.value):
        return None
    now = now or timezone.now()
    token = next(iter(_ACCESS_LOOKUP.filter(digest=secret_digest(raw))[:1]), None)
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
    if connection.vendor == "postgresql":
        token = _api_token_by_digest(secret_digest(raw))
    else:
        lookup = ApiToken.objects.select_related("user").filter(digest=secret_digest(raw))
        token = next(iter(lookup.order_by()[:1]), None)  # unique digest: no ORDER BY needed
    if (
        token is None
        or token.status != TokenStatus.ACTIVE
        or (token.expiration_date is not None and token.expiration_date <= now)
        or (token.user is not None and not token.user.is_active)
    ):
        return None
    return token


_API_TOKEN_SQL = (
    f"SELECT {columns('t', ApiToken)}, {columns('u', User)} FROM {ApiToken._meta.db_table} t"
    f" LEFT JOIN {User._meta.db_table} u ON u.id = t.user_id WHERE t.digest = %s"
)


def _api_token_by_digest(digest: str) -> ApiToken | None:
    """The API token with its user (None for an application's token): what the ORM lookup
    loads, in one prepared statement (PostgreSQL)."""
    row = fetch_one(_API_TOKEN_SQL, [digest])
    if row is None:
        return None
    split = len(ApiToken._meta.concrete_fields)
    token = instance(ApiToken, row[:split])
    token.user = instance(User, row[split:]) if token.user_id is not None else None
    return token


# The usability rules of `active_access_token` are in the WHERE clause, so the row carries only
# what the Principal needs: every timestamp decoded in Python cost CPU on each call (bench W1).
_OAUTH_SQL = (
    "SELECT a.scope, a.resource, o.id, o.default_role, o.org_roles,"
    " (o.last_used IS NULL OR o.last_used <= %s), c.client_id,"
    f" (SELECT COUNT(*) FROM {Application._meta.db_table} x WHERE x.sandbox_user_id = u.id),"
    f" (SELECT COUNT(*) FROM {Membership._meta.db_table} m WHERE m.user_id = u.id),"
    f" {columns('u', User)}"
    f" FROM {AccessToken._meta.db_table} a"
    f" JOIN {OAuthToken._meta.db_table} o ON o.id = a.oauth_token_id"
    f" JOIN {User._meta.db_table} u ON u.id = o.user_id"
    f" JOIN {OAuthClient._meta.db_table} c ON c.id = o.client_id"
    " WHERE a.digest = %s AND a.expires_at > %s"
    f" AND o.status = '{TokenStatus.ACTIVE.value}'"
    f" AND o.authorization_status = '{AuthorizationStatus.AUTHORIZED.value}'"
    " AND (o.expiration_date IS NULL OR o.expiration_date > %s) AND u.is_active"
)


def _oauth_principal(raw: str, *, now, resource: str) -> Principal | None:
    """`active_access_token`'s rules and the Principal in one statement (PostgreSQL)."""
    row = fetch_one(_OAUTH_SQL, [now - LAST_USED_RESOLUTION, secret_digest(raw), now, now])
    if row is None:
        return None
    (scope, bound, grant_id, default_role, org_roles, stale, client_id, app_count,
     org_count) = row[:9]  # fmt: skip
    if resource not in json_value(bound):
        return None
    if stale:
        _record_use(OAuthToken, grant_id, now)
    return Principal(
        kind="oauth",
        user=instance(User, row[9:]),
        scope=frozenset(json_value(scope)),
        cap=RoleCap(default_role, json_value(org_roles)),
        token_id=grant_id,
        client_id=client_id,
        user_counts=(app_count, org_count),
    )


def principal_from_bearer(raw: str, *, resource: str | None = None) -> Principal | None:
    """Resolve a bearer credential. OAuth access tokens must be bound to `resource` (RFC 8707);
    it defaults to this server's API (`PUBLIC_URL/api`)."""
    now = timezone.now()
    if raw.startswith(SecretKind.ACCESS_TOKEN.value) and connection.vendor == "postgresql":
        return _oauth_principal(raw, now=now, resource=resource or settings.API_RESOURCE_URL)
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
        _record_use(model, pk, now)


def _record_use(model, pk: str, now) -> None:
    model.objects.filter(pk=pk).update(last_used=now)
