"""The migration step that removes the twin indexes an earlier schema editor made."""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# The indexes Django's own schema editor named "<table>_<column>_<hash>_like", on one column with
# a pattern operator class; any index we declare has another name.
_TWINS_SQL = """
SELECT i.relname
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_opclass o ON o.oid = x.indclass[0]
WHERE t.relname = ANY(%s) AND t.relnamespace = to_regnamespace(current_schema())
  AND x.indnatts = 1 AND o.opcname IN ('varchar_pattern_ops', 'text_pattern_ops')
  AND i.relname LIKE '%%\\_like'
ORDER BY 1
"""


def pattern_ops_twins_drop(
    app_label: str,
) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    """A RunPython function dropping the `_like` twins on the tables of `app_label`'s models."""

    def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        tables = [
            m._meta.db_table
            for m in apps.get_app_config(app_label).get_models(include_auto_created=True)
        ]
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_TWINS_SQL, [tables])
            names = [name for (name,) in cursor.fetchall()]
        for name in names:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return drop
