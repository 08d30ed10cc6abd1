"""The OAuth token list on PostgreSQL (bench W5)."""

from __future__ import annotations

from django.db import connection

from tokens import selectors
from tokens.models import OAuthToken


def test_prefix_index_covers_the_id_and_every_sort_key(db):
    """A prefix glob's matches, count and order come from an index-only scan (migration 0004):
    a sort key missing from the index sends every match to the table (bench W5a: 3x the cost)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE c.relname = 'oauthtoken_user_lname'"
        )
        covered = {name for (name,) in cursor.fetchall()}
    sort_columns = {
        OAuthToken._meta.get_field(field).column
        for field in selectors.OAUTH_TOKEN_LIST.sort_fields.values()
    }
    assert {"user_id", "id"} | sort_columns <= covered
