"""Indexes for the glob filter of the OAuth token list (bench W5; apikit.lists.GlobMatch filters
with `LOWER(name) LIKE LOWER(pattern)` on PostgreSQL):

- a btree on (user_id, LOWER(name) text_pattern_ops) INCLUDE (name): a literal prefix such as
  `echo*` becomes an index range, and the count and the page's sort keys need no heap reads;
- a trigram GIN on LOWER(name): infix globs such as `*client 04?2*`.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations



class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(
            "CREATE INDEX oauthtoken_user_lname ON tokens_oauthtoken"
            " (user_id, LOWER(name) text_pattern_ops) INCLUDE (name)",
            reverse_sql="DROP INDEX oauthtoken_user_lname",
        ),
        migrations.RunSQL(
            "CREATE INDEX oauthtoken_lname_trgm ON tokens_oauthtoken"
            " USING gin (LOWER(name) gin_trgm_ops)",
            reverse_sql="DROP INDEX oauthtoken_lname_trgm",
        ),
    ]
