"""Credentials beneath an OAuth token: the authorization code, access tokens and refresh tokens.

Lock order, everywhere: the OAuth token row first (SELECT ... FOR UPDATE), then its code or
refresh token. Code redemption, refresh rotation and the pending-token purge therefore never
deadlock, and a family is revoked in one operation on the OAuth token, never a walk along a
chain of refresh tokens (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

Every secret comes from `secret_generate` and is stored only as its SHA-256 digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tokens.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationStatus,
    OAuthToken,
    RefreshToken,
    TokenEventKind,
)
from tokens.secrets import SecretKind, secret_digest, secret_generate
from tokens.selectors import GRANT_COLUMNS, GRANT_JOINS, grant_from_row
from tokens.services.events import token_event_record
from tokens.services.oauth_tokens import oauth_token_delete
from tokens.sql import fetch_all, fetch_one

# OAuth 2.1 §4.1.2: a maximum authorization code lifetime of 10 minutes.
MAX_CODE_LIFETIME = 600
INVALID_CODE = "The provided authorization code is invalid, expired, or revoked"
INVALID_REFRESH = "The provided refresh token is invalid, expired, or revoked"
UNUSABLE_GRANT = "The OAuth token is inactive, expired or not authorized"


class GrantError(Exception):
    """An `invalid_grant` (RFC 6749 §5.2); the authorization server turns it into the error."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint returns (RFC 6749 §5.1). Raw secrets live only here."""

    oauth_token: OAuthToken
    access_token: str
    expires_in: int
    scope: list[str]
    resource: list[str]
    refresh_token: str | None


def authorization_code_issue(
    *, oauth_token: OAuthToken, redirect_uri: str | None = None, now: datetime | None = None
) -> tuple[AuthorizationCode, str]:
    """A single-use code for a pending OAuth token, valid <= 10 minutes (OAuth 2.1 §4.1.2).

    `redirect_uri` is the one the authorization request carried; "" when it was omitted, so the
    token request need not repeat it (RFC 6749 §4.1.3).
    """
    now = now or timezone.now()
    lifetime = min(settings.OAUTH_AUTHORIZATION_CODE_LIFETIME, MAX_CODE_LIFETIME)
    raw = secret_generate(SecretKind.AUTHORIZATION_CODE)
    code = AuthorizationCode.objects.create(
        oauth_token=oauth_token,
        digest=secret_digest(raw),
        redirect_uri=oauth_token.redirect_uri if redirect_uri is None else redirect_uri,
        code_challenge=oauth_token.code_challenge,
        resource=list(oauth_token.resource),
        expires_at=now + timedelta(seconds=lifetime),
        creation_date=now,
    )
    return code, raw


def authorization_code_redeem(
    *,
    code: AuthorizationCode,
    resource: list[str] | None,
    include_refresh_token: bool,
    now: datetime | None = None,
) -> IssuedTokens:
    """Exchange a code once (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3) and authorize its OAuth token.

    The caller has already checked client authentication, the redirect URI and the PKCE
    verifier, so a second use here is an otherwise-valid replay: the whole OAuth token is
    deleted, revoking everything issued from the code (RFC 9700 §4.2.4). The claim is a
    conditional UPDATE (`used_at IS NULL`), so parallel redemptions yield exactly one success.
    """
    return _issued_or_raise(
        _code_redeem(
            code=code,
            resource=resource,
            include_refresh_token=include_refresh_token,
            now=now or timezone.now(),
        )
    )


def _issued_or_raise(outcome: IssuedTokens | str) -> IssuedTokens:
    """Raise the error an atomic step returned. The step returns errors instead of raising them
    so that what it revoked (a replayed code's or reused refresh token's grant) commits first."""
    if isinstance(outcome, str):
        raise GrantError(outcome)
    return outcome


@transaction.atomic
def _code_redeem(
    *, code: AuthorizationCode, resource: list[str] | None, include_refresh_token: bool, now
) -> IssuedTokens | str:
    # Errors are returned, not raised, so that a replay's revocation commits.
    grant = _grant_lock(code.oauth_token_id, now)
    if grant is None:
        return INVALID_CODE
    if not _code_claim(code.pk, now):
        if AuthorizationCode.objects.filter(
            pk=code.pk, used_at__isnull=False, expires_at__gt=now
        ).exists():
            oauth_token_delete(token=grant, reason="authorization code replayed")
        return INVALID_CODE
    # tokens.selectors.GRANT_REDEEMABLE, read under the lock. A pending token the user
    # deactivated stays inactive: the code authorizes it, it never reactivates it.
    if not grant.redeemable:
        return UNUSABLE_GRANT
    grant.authorization_status = AuthorizationStatus.AUTHORIZED
    bound = list(resource or code.resource or grant.resource or [settings.API_RESOURCE_URL])
    issued = _tokens_issue(
        grant=grant,
        scope=list(grant.scope),
        access_resource=bound,
        refresh_scope=list(grant.scope),
        refresh_resource=list(grant.resource or bound),
        include_refresh_token=include_refresh_token,
        event=TokenEventKind.AUTHORIZED,
        event_detail={"scope": list(grant.scope), "resource": bound},
        now=now,
    )
    _grant_authorize(grant.pk, now)
    return issued


def _code_claim(code_id: int, now: datetime) -> bool:
    """Mark an unused, unexpired code used; False if it was not (used, expired or gone)."""
    return bool(fetch_all(_CLAIM_SQL, [now, code_id, now]))


_CLAIM_SQL = (
    f"UPDATE {AuthorizationCode._meta.db_table} SET used_at = %s"
    " WHERE id = %s AND used_at IS NULL AND expires_at > %s RETURNING id"
)


def _grant_authorize(oauth_token_id: str, now: datetime) -> None:
    values = {"authorization_status": AuthorizationStatus.AUTHORIZED, "last_updated": now}
    fetch_all(_AUTHORIZE_SQL, [*values.values(), oauth_token_id])


_AUTHORIZE_SQL = (
    f"UPDATE {OAuthToken._meta.db_table}"
    " SET authorization_status = %s, last_updated = %s WHERE id = %s RETURNING id"
)


def refresh_token_rotate(
    *,
    refresh_token: RefreshToken,
    scope: list[str] | None,
    resource: list[str] | None,
    now: datetime | None = None,
) -> IssuedTokens:
    """Rotate a refresh token (OAuth 2.1 §4.3.1): a new one replaces it, the old one is spent.

    Presenting an already-rotated refresh token deletes the whole OAuth token, so a stolen
    token dies with its family (RFC 9700 §4.14.2). `scope` may only narrow the grant's scope
    (RFC 6749 §6); the new refresh token keeps the original scope. Fails when the OAuth token
    is not usable (tokens.selectors.GRANT_USABLE: inactive, deleted, pending, expired, its user
    deactivated or its client suspended).
    """
    return _issued_or_raise(
        _refresh_rotate(
            refresh_token=refresh_token, scope=scope, resource=resource, now=now or timezone.now()
        )
    )


@transaction.atomic
def _refresh_rotate(
    *, refresh_token: RefreshToken, scope: list[str] | None, resource: list[str] | None, now
) -> IssuedTokens | str:
    grant = _grant_lock(refresh_token.oauth_token_id, now)
    if grant is None:
        return INVALID_REFRESH
    state = _refresh_state(refresh_token.pk)
    if state is None:
        return INVALID_REFRESH
    if state == "used":
        oauth_token_delete(token=grant, reason="rotated refresh token reused")
        return INVALID_REFRESH
    if not grant.usable:  # tokens.selectors.GRANT_USABLE, read under the lock
        return UNUSABLE_GRANT
    if not _refresh_spend(refresh_token.pk, now):
        return INVALID_REFRESH
    access_scope = list(scope) if scope is not None else list(refresh_token.scope)
    issued = _tokens_issue(
        grant=grant,
        scope=access_scope,
        access_resource=list(resource or refresh_token.resource or [settings.API_RESOURCE_URL]),
        refresh_scope=list(refresh_token.scope),
        refresh_resource=list(refresh_token.resource),
        include_refresh_token=True,
        event=TokenEventKind.REFRESHED,
        event_detail={"scope": access_scope},
        now=now,
    )
    return issued


def _refresh_state(refresh_id: int) -> str | None:
    """'unused', 'used' (already rotated) or None (gone). Read under the grant's lock, which
    every rotation of the family holds, so it cannot change before the spend."""
    row = fetch_one(_REFRESH_STATE_SQL, [refresh_id])
    if row is None:
        return None
    return "unused" if row[0] is None else "used"


_REFRESH_STATE_SQL = f"SELECT used_at FROM {RefreshToken._meta.db_table} WHERE id = %s"


def _refresh_spend(refresh_id: int, now: datetime) -> bool:
    return bool(fetch_all(_REFRESH_SPEND_SQL, [now, refresh_id]))


_REFRESH_SPEND_SQL = (
    f"UPDATE {RefreshToken._meta.db_table} SET used_at = %s"
    " WHERE id = %s AND used_at IS NULL RETURNING id"
)


def access_token_revoke(*, access_token: AccessToken) -> None:
    """Revoke one access token (RFC 7009 §2.1); its OAuth token and refresh token remain."""
    grant = access_token.oauth_token
    AccessToken.objects.filter(pk=access_token.pk).delete()
    token_event_record(
        token_type="oauthToken",
        token_id=grant.pk,
        kind=TokenEventKind.REVOKED,
        user_id=grant.user_id,
        client_id=grant.client.client_id,
        detail={"credential": "access_token"},
    )


@transaction.atomic
def refresh_token_revoke(*, refresh_token: RefreshToken) -> None:
    """Revoking a refresh token revokes its grant: the OAuth token with every access and
    refresh token of it (RFC 7009 §2.1)."""
    grant = _grant_lock(refresh_token.oauth_token_id, timezone.now())
    if grant is None:
        return
    token_event_record(
        token_type="oauthToken",
        token_id=grant.pk,
        kind=TokenEventKind.REVOKED,
        user_id=grant.user_id,
        client_id=grant.client.client_id,
        detail={"credential": "refresh_token"},
    )
    oauth_token_delete(token=grant, reason="refresh token revoked by the client")


def _grant_lock(oauth_token_id: str, now: datetime) -> OAuthToken | None:
    """The OAuth token row locked, with only the user and client fields the grants read (every
    client column, a logo can be a 32 KiB data: URI, made this the costliest statement of an
    exchange) and the usability verdicts at `now` (tokens.selectors.GRANT_COLUMNS)."""
    rows = fetch_all(_LOCK_SQL, {"id": oauth_token_id, "now": now})
    return grant_from_row(rows[0]) if rows else None


_LOCK_SQL = (
    f"SELECT {GRANT_COLUMNS} FROM {OAuthToken._meta.db_table} o{GRANT_JOINS}"
    " WHERE o.id = %(id)s FOR UPDATE OF o"
)


def _tokens_issue(
    *,
    grant: OAuthToken,
    scope: list[str],
    access_resource: list[str],
    refresh_scope: list[str],
    refresh_resource: list[str],
    include_refresh_token: bool,
    event: TokenEventKind,
    event_detail: dict,
    now,
) -> IssuedTokens:
    """Issue an access token (and a refresh token) under `grant` and record the audit event,
    in one statement."""
    lifetime = settings.OAUTH_ACCESS_TOKEN_LIFETIME
    raw_access = secret_generate(SecretKind.ACCESS_TOKEN)
    rows: list[AccessToken | RefreshToken] = [
        AccessToken(
            oauth_token=grant,
            digest=secret_digest(raw_access),
            scope=scope,
            resource=access_resource,
            expires_at=now + timedelta(seconds=lifetime),
            creation_date=now,
        )
    ]
    raw_refresh = None
    if include_refresh_token:
        raw_refresh = secret_generate(SecretKind.REFRESH_TOKEN)
        rows.append(
            RefreshToken(
                oauth_token=grant,
                digest=secret_digest(raw_refresh),
                scope=refresh_scope,
                resource=refresh_resource,
                creation_date=now,
            )
        )
    token_event_record(
        token_type="oauthToken",
        token_id=grant.pk,
        kind=event,
        user_id=grant.user_id,
        client_id=grant.client.client_id,
        detail=event_detail,
        saved_with=tuple(rows),
    )
    return IssuedTokens(
        oauth_token=grant,
        access_token=raw_access,
        expires_in=lifetime,
        scope=scope,
        resource=access_resource,
        refresh_token=raw_refresh,
    )
