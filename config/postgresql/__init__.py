"""Django's PostgreSQL backend without the `_like` twin indexes (docs/decisions/044).

For every `varchar` or `text` column that is indexed or unique (primary keys, foreign keys, token
digests), Django's PostgreSQL schema editor adds a second B-tree with `varchar_pattern_ops`, so
that `LIKE 'abc%'` can use an index in a non-C locale. Nothing here asks for that: ids, foreign
keys, digests and client ids are only ever compared with `=`, the admin's search is
`UPPER(...) LIKE '%...%'` (which no B-tree serves), and the token names that are searched have
their own indexes in the "C" collation (tokens.models.OAuthToken). The twins only cost: each is
written on every INSERT and every non-HOT UPDATE (an access-token INSERT costs 37% less without
its two) and holds a copy of the key.
"""
