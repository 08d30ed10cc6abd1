"""No `_like` twin indexes (config/postgresql, docs/decisions/044-no-pattern-ops-twins.md):
every varchar key is indexed once, and the migration removes the twins an older schema editor
made."""

import pytest
from django.apps import apps
from django.db import connection

from config.postgresql.migrations import pattern_ops_twins_drop

pytestmark = pytest.mark.django_db

_PATTERN_OPS_INDEXES = """
SELECT t.relname, i.relname FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_opclass o ON o.oid = ANY(x.indclass)
WHERE t.relnamespace = to_regnamespace(current_schema())
  AND o.opcname IN ('varchar_pattern_ops', 'text_pattern_ops')
"""


def _pattern_ops_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(_PATTERN_OPS_INDEXES)
        return cursor.fetchall()


def _index_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [table])
        return cursor.fetchone()[0]


def test_the_migrated_schema_has_no_pattern_ops_index():
    assert _pattern_ops_indexes() == []


def test_a_varchar_foreign_key_and_a_unique_digest_are_indexed_once():
    # tokens_accesstoken: its primary key, its digest (unique) and its OAuth token (foreign key).
    assert _index_count("tokens_accesstoken") == 3


@pytest.mark.parametrize("app_label", ["accounts", "tokens", "consent"])
def test_the_migration_drops_an_existing_twin_and_keeps_the_real_index(app_label):
    model = next(iter(apps.get_app_config(app_label).get_models()))
    table, column = model._meta.db_table, model._meta.pk.column
    twin = f"{table}_{column}_0badcafe_like"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX "{twin}" ON "{table}" ("{column}" varchar_pattern_ops)')
        cursor.execute(f'CREATE INDEX "kept_{table[:40]}" ON "{table}" ("{column}")')
    before = _index_count(table)
    assert (table, twin) in _pattern_ops_indexes()

    with connection.schema_editor() as editor:
        pattern_ops_twins_drop(app_label)(apps, editor)

    assert _pattern_ops_indexes() == []
    assert _index_count(table) == before - 1
