"""Reading what PostgreSQL holds for the test's own connection."""

from __future__ import annotations

from django.db import connection


def prepared_statements() -> dict[str, int]:
    """This connection's prepared statements (parameters shown as $1, $2...), each with the
    number of times it has run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def prepared_runs(fragment: str) -> int:
    """How many times the most-run prepared statement containing `fragment` has run (0: none)."""
    return max((runs for sql, runs in prepared_statements().items() if fragment in sql), default=0)
