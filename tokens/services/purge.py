"""Purge of stale OAuth state (Celery beat, hourly): pending OAuth tokens whose exchange never
completed (user-oauth-tokens-guide: "removed after 24 hours") and expired authorization codes.

Deletes run in batches with one short transaction each, so the purge never holds locks for
long. A pending token is re-checked in the DELETE itself (`authorization_status = 'pending'`):
a token authorized a moment ago is never deleted. The code redemption locks the OAuth token row
first, so the two serialize on that row instead of racing.

A batch is one statement (`_pg_batch_sql`): it picks up to `batch_size` stale
pending tokens `FOR UPDATE SKIP LOCKED`, deletes them and the rows that point at them, and is
its own transaction (no BEGIN/COMMIT round trips, no ids sent back and forth). About three
quarters of a batch's time is PostgreSQL's per-row foreign-key checks of the three child tables,
which only more CPUs make faster, so `PURGE_WORKERS` connections run batches side by side;
SKIP LOCKED keeps their batches disjoint and lets a redemption in progress keep its row.
bench W7, 1 000 000 tokens: 109 s before, see docs/benchmarks.md for after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from config.locks import advisory_lock
from tokens.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationStatus,
    OAuthToken,
    RefreshToken,
)

# Small enough that one batch's transaction stays far below a second on a loaded machine.
BATCH_SIZE = 2000
# A batch's transaction should take no longer than this; slower ones shrink the next batch.
BATCH_SECONDS = 0.25
MIN_BATCH_SIZE = 100
PURGE_WORKERS = 2


# Told after each batch: what was deleted ("pending tokens" or "codes") and how many.
Progress = Callable[[str, int], None]


def _silent(what: str, deleted: int) -> None:
    pass


@dataclass(frozen=True)
class PurgeResult:
    pending_tokens: int
    codes: int


def token_purge_pending(
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    workers: int = PURGE_WORKERS,
    progress: Progress = _silent,
) -> PurgeResult:
    """Delete pending OAuth tokens older than OAUTH_PENDING_TOKEN_MAX_AGE, then expired codes.

    Used codes are kept until they expire, so a replay within their lifetime is still
    recognised and revokes the grant (OAuth 2.1 §4.1.3). `progress` hears of every batch
    (from the purge's worker threads too), for `manage.py purge_pending_tokens`.
    """
    cutoff = now - timedelta(seconds=settings.OAUTH_PENDING_TOKEN_MAX_AGE)
    if workers > 1 and not connection.in_atomic_block:
        tokens = _parallel_pending_purge(cutoff, batch_size, workers, progress)
    else:
        # Inside a caller's transaction only this connection sees its rows: one worker.
        tokens = _pending_purge_loop(cutoff, batch_size, progress)
    codes = 0
    while True:
        expired = AuthorizationCode.objects.filter(expires_at__lte=now).order_by().values("pk")
        deleted = AuthorizationCode.objects.filter(
            pk__in=expired[:batch_size], expires_at__lte=now
        ).delete()[0]
        codes += deleted
        progress("codes", deleted)
        if deleted < batch_size:
            break
    return PurgeResult(pending_tokens=tokens, codes=codes)


def _pg_batch_sql(selection: str) -> str:
    """One statement: delete the still-pending tokens chosen by `selection` (SQL yielding ids)
    and their codes, access and refresh tokens; returns how many tokens went. Foreign keys are
    checked at the end of the statement or at commit (Django creates them deferred), after the
    children are gone."""
    quote = connection.ops.quote_name
    children = "".join(
        f", {quote(model._meta.db_table)} AS (DELETE FROM {quote(model._meta.db_table)}"
        f" WHERE {quote('oauth_token_id')} IN (SELECT {quote('id')} FROM gone))"
        for model in (AuthorizationCode, AccessToken, RefreshToken)
    )
    return (
        f"WITH gone AS (DELETE FROM {quote(OAuthToken._meta.db_table)}"
        f" WHERE {quote('id')} IN ({selection}) AND {quote('authorization_status')} = %s"
        f" RETURNING {quote('id')}){children} SELECT COUNT(*) FROM gone"
    )


def _stale_selection() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('id')} FROM {quote(OAuthToken._meta.db_table)}"
        f" WHERE {quote('authorization_status')} = %s AND {quote('creation_date')} < %s"
        " LIMIT %s FOR UPDATE SKIP LOCKED"
    )


def _pending_purge_loop(cutoff: datetime, batch_size: int, progress: Progress = _silent) -> int:
    """Batches until one comes back short: nothing stale is left that no one else holds.

    A batch that took longer than BATCH_SECONDS halves the next one's size, and a quick one
    doubles it again up to `batch_size`: on a machine busy with other work a batch of the
    full size held its transaction open for 2.2 s (bench W7), past the 1 s every transaction
    must stay under. Outside a caller's transaction each batch commits without waiting for
    its WAL to reach the disk (`synchronous_commit = off`): a crash can at worst undo the last
    batches' deletes, which the next purge makes again.
    """
    pending = AuthorizationStatus.PENDING.value
    sql = _pg_batch_sql(_stale_selection())
    total, size = 0, batch_size
    asynchronous = not connection.in_atomic_block
    with connection.cursor() as cursor:
        if asynchronous:
            cursor.execute("SET synchronous_commit = off")
        try:
            while True:
                started = time.monotonic()
                cursor.execute(sql, [pending, cutoff, size, pending])
                deleted = cursor.fetchone()[0]
                total += deleted
                progress("pending tokens", deleted)
                if deleted < size:
                    return total
                size = _next_batch_size(size, time.monotonic() - started, batch_size)
        finally:
            if asynchronous:
                cursor.execute("RESET synchronous_commit")


def _next_batch_size(size: int, seconds: float, largest: int) -> int:
    if seconds > BATCH_SECONDS:
        return max(MIN_BATCH_SIZE, size // 2)
    if seconds < BATCH_SECONDS / 4:
        return min(largest, size * 2)
    return size


def _parallel_pending_purge(
    cutoff: datetime, batch_size: int, workers: int, progress: Progress
) -> int:
    counts = [0] * workers
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            counts[index] = _pending_purge_loop(cutoff, batch_size, progress)
        except BaseException as error:  # re-raised in the calling thread below
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts)


def _pending_batch_delete(ids: list[str]) -> int:
    """Delete the tokens of `ids` that are still pending, and the rows that pointed at them."""
    with connection.cursor() as cursor:
        cursor.execute(
            _pg_batch_sql("SELECT unnest(%s::varchar[])"),
            [ids, AuthorizationStatus.PENDING.value],
        )
        return cursor.fetchone()[0]


PURGE_LOCK = "tokens.purge_pending"


def token_purge_pending_once(*, now: datetime, progress: Progress = _silent) -> PurgeResult | None:
    """`token_purge_pending` unless another purge is running anywhere (a PostgreSQL advisory
    lock, config.locks): then None. The beat task and `manage.py purge_pending_tokens` call it,
    so two purges never run side by side, however many beats or workers there are."""
    with advisory_lock(PURGE_LOCK) as acquired:
        if not acquired:
            return None
        return token_purge_pending(now=now, progress=progress)
