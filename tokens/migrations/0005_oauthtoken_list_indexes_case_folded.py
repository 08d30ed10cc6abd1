"""The token list sorts names without regard to case and compares case-folded names byte by
byte (apikit.lists.CaseFolded, GlobMatch: `LOWER(name) COLLATE "C"`), so its indexes are keyed
on that expression:

- a btree on (user_id, LOWER(name) COLLATE "C", name, id), covering the other sort keys: a
  glob with a literal prefix (`echo*`) is one index range already in name order, so the page
  is its first rows and the total an index-only count (bench W5a: 13 ms -> about 3 ms in
  PostgreSQL); the unfiltered name sort reads the page straight from it too;
- a trigram GIN on the same expression, for infix globs (`*client 04?2*`), without GIN's
  pending list (`fastupdate = off`): every search reads the whole unmerged list, so the tokens
  the authorization flow keeps adding made each infix search slower until the next vacuum
  (bench W5b after W2/W3: 118 req/s, against about 200 on a freshly vacuumed table); an insert
  now merges its few trigrams at once instead.

They replace the text_pattern_ops btree (0002/0004), the trigram GIN on LOWER(name) (0002) and
the (user, name) btree, which no list query uses any more.
"""

from django.db import migrations


FOLDED = 'LOWER(name) COLLATE "C"'
CREATE = [
    "CREATE INDEX oauthtoken_user_fname ON tokens_oauthtoken"
    f" (user_id, ({FOLDED}), name, id) INCLUDE (status, creation_date, last_updated)",
    "CREATE INDEX oauthtoken_fname_trgm ON tokens_oauthtoken"
    f" USING gin (({FOLDED}) gin_trgm_ops) WITH (fastupdate = off)",
]
DROP_OLD = ["DROP INDEX oauthtoken_user_lname", "DROP INDEX oauthtoken_lname_trgm"]
RESTORE_OLD = [
    "CREATE INDEX oauthtoken_user_lname ON tokens_oauthtoken"
    " (user_id, LOWER(name) text_pattern_ops)"
    " INCLUDE (id, name, status, creation_date, last_updated)",
    "CREATE INDEX oauthtoken_lname_trgm ON tokens_oauthtoken USING gin (LOWER(name) gin_trgm_ops)",
]
DROP_NEW = ["DROP INDEX oauthtoken_user_fname", "DROP INDEX oauthtoken_fname_trgm"]


class Migration(migrations.Migration):
    dependencies = [("tokens", "0004_oauthtoken_user_lname_covers_sort_keys")]

    operations = [
        migrations.RemoveIndex(model_name="oauthtoken", name="oauthtoken_user_name"),
        migrations.RunSQL(DROP_OLD + CREATE, reverse_sql=DROP_NEW + RESTORE_OLD),
    ]
