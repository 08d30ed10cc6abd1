"""The prefix index of the token list's glob filter (0002) also carries the id and every sort
key of the list (tokens.selectors.OAUTH_TOKEN_LIST), so a prefix glob's matches, their count
and the page's order come from an index-only scan.

Why: apikit.lists materializes the matches' ids and sort keys. With only `name` in the index,
the id had to come from the table, so the planner took the trigram index and read a heap page
per match: `echo*` over 100 000 tokens (12 500 matches, bench W5a) cost 25-30 ms in PostgreSQL;
covered, about 8 ms. Infix globs keep using the trigram index.
"""

from django.db import migrations


COVERED = (
    "CREATE INDEX oauthtoken_user_lname ON tokens_oauthtoken"
    " (user_id, LOWER(name) text_pattern_ops)"
    " INCLUDE (id, name, status, creation_date, last_updated)"
)
NAME_ONLY = (
    "CREATE INDEX oauthtoken_user_lname ON tokens_oauthtoken"
    " (user_id, LOWER(name) text_pattern_ops) INCLUDE (name)"
)


class Migration(migrations.Migration):
    dependencies = [("tokens", "0003_oauth_token_children_cascade_in_database")]

    operations = [
        migrations.RunSQL(
            ["DROP INDEX oauthtoken_user_lname", COVERED],
            reverse_sql=["DROP INDEX oauthtoken_user_lname", NAME_ONLY],
        ),
    ]
