"""Run-once locks for scheduled work, held by PostgreSQL (session advisory locks).

Celery beat sends each scheduled task once, but a second beat started by mistake, a task
redelivered after a worker died, or an operator's `manage.py purge_pending_tokens` next to the
hourly run would otherwise do the same work twice at once. An advisory lock needs no table and
no Redis, and PostgreSQL releases it by itself if the holder's connection dies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Yield True with the lock `name` held, False when another session holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [name])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
