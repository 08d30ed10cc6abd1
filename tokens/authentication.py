"""Who is calling: resolve a bearer credential to a Principal. This is the hot path of every API
request, so each credential kind is one indexed query on its SHA-256 digest, with no cache: a
deactivated, deleted or expired token fails on the very next request.

An OAuth access token is resolved by one hand-written statement (`_OAUTH_SQL`): access token +
OAuth token + user + the client's id + the user's profile counts, only the columns used.
Building the equivalent ORM query cost more CPU than everything else in a `GET /api/me`
(docs/benchmarks.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Application, Membership, User
from accounts.principals import Principal
from accounts.roles import RoleCap
from consent.models import OAuthClient
from tokens.models import (
    AccessToken,
    ApiToken,
    ApiTokenOwnerType,
    OAuthToken,
    TokenStatus,
)
from tokens.secrets import SecretKind, secret_digest
from tokens.selectors import GRANT_JOINS, GRANT_USABLE
from tokens.sql import columns, execute, fetch_one, instance, json_value, partial_instance

LAST_USED_RESOLUTION = timedelta(minutes=1)


def active_access_token(raw: str, *, now: datetime | None = None) -> AccessToken | None:
    """The access token for `raw` if it is unexpired and its grant usable right now
    (tokens.selectors.GRANT_USABLE), else None. The one lookup of both bearer paths, the API's
    bearer check and introspection (RFC 7662 §2.2, consent.oauth), so they see the same data.

    One prepared statement. Loaded: the access token's scope, resource, creation and expiry
    dates; its OAuth token's id, user, client, default role and organization roles; the whole
    user; the client's client_id; and, as attributes, `stale` (last use not recorded this
    minute) and `user_counts` (the user's sandbox application and organization counts).
    """
    if not raw.startswith(SecretKind.ACCESS_TOKEN.value):
        return None
    now = now or timezone.now()
    row = fetch_one(
        _OAUTH_SQL,
        {"stale_before": now - LAST_USED_RESOLUTION, "digest": secret_digest(raw), "now": now},
    )
    if row is None:
        return None
    (access_id, scope, resource, created, expires, grant_id, user_id, client_pk, default_role,
     org_roles, stale, client_id, app_count, org_count) = row[:14]  # fmt: skip
    grant = partial_instance(
        OAuthToken,
        id=grant_id,
        user_id=user_id,
        client_id=client_pk,
        default_role=default_role,
        org_roles=json_value(org_roles),
    )
    grant.user = instance(User, row[14:])
    grant.client = partial_instance(OAuthClient, id=client_pk, client_id=client_id)
    token = partial_instance(
        AccessToken,
        id=access_id,
        oauth_token_id=grant_id,
        scope=json_value(scope),
        resource=json_value(resource),
        creation_date=created,
        expires_at=expires,
    )
    token.oauth_token = grant
    token.stale, token.user_counts = stale, (app_count, org_count)
    return token


# The rule is in the WHERE clause (the access token's own expiry, then GRANT_USABLE), so the row
# carries only what the two bearer paths read: every column decoded in Python cost CPU on each
# call (bench W1).
_OAUTH_SQL = (
    "SELECT a.id, a.scope, a.resource, a.creation_date, a.expires_at,"
    " o.id, o.user_id, o.client_id, o.default_role, o.org_roles,"
    " (o.last_used IS NULL OR o.last_used <= %(stale_before)s), c.client_id,"
    f" (SELECT COUNT(*) FROM {Application._meta.db_table} x WHERE x.sandbox_user_id = u.id),"
    f" (SELECT COUNT(*) FROM {Membership._meta.db_table} m WHERE m.user_id = u.id),"
    f" {columns('u', User)}"
    f" FROM {AccessToken._meta.db_table} a"
    f" JOIN {OAuthToken._meta.db_table} o ON o.id = a.oauth_token_id{GRANT_JOINS}"
    f" WHERE a.digest = %(digest)s AND a.expires_at > %(now)s AND {GRANT_USABLE}"
)


def active_api_token(raw: str, *, now=None) -> ApiToken | None:
    """The user or application API token for `raw` if active and unexpired, else None."""
    if not raw.startswith(
        (SecretKind.USER_API_TOKEN.value, SecretKind.APPLICATION_API_TOKEN.value)
    ):
        return None
    now = now or timezone.now()
    token = _api_token_by_digest(secret_digest(raw))
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
    loads, in one prepared statement."""
    row = fetch_one(_API_TOKEN_SQL, [digest])
    if row is None:
        return None
    split = len(ApiToken._meta.concrete_fields)
    token = instance(ApiToken, row[:split])
    token.user = instance(User, row[split:]) if token.user_id is not None else None
    return token


def _oauth_principal(raw: str, *, now: datetime, resource: str) -> Principal | None:
    access = active_access_token(raw, now=now)
    if access is None or resource not in access.resource:
        return None
    grant = access.oauth_token
    if access.stale:
        _record_use(OAuthToken, grant.pk, now)
    return Principal(
        kind="oauth",
        user=grant.user,
        scope=frozenset(access.scope),
        cap=RoleCap(grant.default_role, grant.org_roles),
        token_id=grant.pk,
        client_id=grant.client.client_id,
        user_counts=access.user_counts,
    )


def principal_from_bearer(raw: str, *, resource: str | None = None) -> Principal | None:
    """Resolve a bearer credential. OAuth access tokens must be bound to `resource` (RFC 8707);
    it defaults to this server's API (`PUBLIC_URL/api`)."""
    now = timezone.now()
    if raw.startswith(SecretKind.ACCESS_TOKEN.value):
        return _oauth_principal(raw, now=now, resource=resource or settings.API_RESOURCE_URL)
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


def _record_use(model: type[OAuthToken | ApiToken], pk: str, now: datetime) -> None:
    """One prepared UPDATE of the token's last use (the callers decide that it is stale): a
    thousand clients' first calls of a minute each pay this, and compiling the ORM's UPDATE
    cost more than running it (bench W1)."""
    execute(_RECORD_USE_SQL[model], [now, pk])


_RECORD_USE_SQL = {
    model: f"UPDATE {model._meta.db_table} SET last_used = %s WHERE id = %s"
    for model in (OAuthToken, ApiToken)
}
