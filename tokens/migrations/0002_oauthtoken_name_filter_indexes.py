"""Indexes for the glob filter of the OAuth token list (bench W5; apikit.lists.GlobMatch filters
with `LOWER(name) LIKE LOWER(pattern)` on PostgreSQL):

- a btree on (user_id, LOWER(name) text_pattern_ops) INCLUDE (name): a literal prefix such as
  `echo*` becomes an index range, and the count and the page's sort keys need no heap reads;
- a trigram GIN on LOWER(name): infix globs such as `*client 04?2*`.

PostgreSQL only: on other databases (SQLite for `make run`) every operation here does nothing.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from tokens.migrations._postgresql import PostgreSQLOnly


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """Django's operation checks the vendor going forwards but not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        PostgreSQLOnly(
            "CREATE INDEX oauthtoken_user_lname ON tokens_oauthtoken"
            " (user_id, LOWER(name) text_pattern_ops) INCLUDE (name)",
            reverse_sql="DROP INDEX oauthtoken_user_lname",
        ),
        PostgreSQLOnly(
            "CREATE INDEX oauthtoken_lname_trgm ON tokens_oauthtoken"
            " USING gin (LOWER(name) gin_trgm_ops)",
            reverse_sql="DROP INDEX oauthtoken_lname_trgm",
        ),
    ]
