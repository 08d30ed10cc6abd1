"""Purge of stale OAuth state (Celery beat, hourly): pending OAuth tokens whose exchange never
completed (user-oauth-tokens-guide: "removed after 24 hours") and expired authorization codes.

Deletes run in batches of ids with one short transaction each, so the purge never holds locks
for long. A pending token is re-checked in the DELETE itself (`authorization_status =
'pending'`): a token authorized a moment ago is never deleted. The code redemption locks the
OAuth token row first, so the two serialize on that row instead of racing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from tokens.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationStatus,
    OAuthToken,
    RefreshToken,
)

BATCH_SIZE = 5000


@dataclass(frozen=True)
class PurgeResult:
    pending_tokens: int
    codes: int


def token_purge_pending(*, now: datetime, batch_size: int = BATCH_SIZE) -> PurgeResult:
    """Delete pending OAuth tokens older than OAUTH_PENDING_TOKEN_MAX_AGE, then expired codes.

    Used codes are kept until they expire, so a replay within their lifetime is still
    recognised and revokes the grant (OAuth 2.1 §4.1.3).
    """
    cutoff = now - timedelta(seconds=settings.OAUTH_PENDING_TOKEN_MAX_AGE)
    tokens = 0
    while True:
        ids = list(
            OAuthToken.objects.filter(
                authorization_status=AuthorizationStatus.PENDING, creation_date__lt=cutoff
            )
            .order_by()
            .values_list("pk", flat=True)[:batch_size]
        )
        if ids:
            tokens += _pending_batch_delete(ids)
        if len(ids) < batch_size:
            break
    codes = 0
    while True:
        ids = list(
            AuthorizationCode.objects.filter(expires_at__lte=now)
            .order_by()
            .values_list("pk", flat=True)[:batch_size]
        )
        if ids:
            codes += AuthorizationCode.objects.filter(pk__in=ids, expires_at__lte=now).delete()[0]
        if len(ids) < batch_size:
            break
    return PurgeResult(pending_tokens=tokens, codes=codes)


@transaction.atomic
def _pending_batch_delete(ids: list[str]) -> int:
    """One DELETE that re-checks the pending state, then the rows that pointed at the deleted
    tokens. Foreign keys are checked at commit (Django creates them deferred), so the order
    inside the transaction is free."""
    quote = connection.ops.quote_name
    table = quote(OAuthToken._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {quote('id')} IN ({placeholders}) "
            f"AND {quote('authorization_status')} = %s RETURNING {quote('id')}",
            [*ids, AuthorizationStatus.PENDING.value],
        )
        deleted = [row[0] for row in cursor.fetchall()]
    if deleted:
        for model in (AuthorizationCode, AccessToken, RefreshToken):
            model.objects.filter(oauth_token_id__in=deleted).delete()
    return len(deleted)
