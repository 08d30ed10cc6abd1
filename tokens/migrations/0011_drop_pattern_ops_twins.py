from django.db import migrations

from config.postgresql.migrations import pattern_ops_twins_drop


class Migration(migrations.Migration):
    """Drop the `_like` twin indexes Django's schema editor added (config/postgresql)."""

    dependencies = [("tokens", "0010_oauthtoken_user_indexed_by_list_indexes")]

    operations = [
        migrations.RunPython(pattern_ops_twins_drop("tokens"), migrations.RunPython.noop),
    ]
