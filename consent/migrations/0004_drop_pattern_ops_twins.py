from django.db import migrations

from config.postgresql.migrations import pattern_ops_twins_drop


class Migration(migrations.Migration):
    """Drop the `_like` twin indexes Django's schema editor added (config/postgresql)."""

    dependencies = [("consent", "0003_admin_names")]

    operations = [
        migrations.RunPython(pattern_ops_twins_drop("consent"), migrations.RunPython.noop),
    ]
