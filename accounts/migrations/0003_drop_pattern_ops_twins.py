from django.db import migrations

from config.postgresql.migrations import pattern_ops_twins_drop


class Migration(migrations.Migration):
    """Drop the `_like` twin indexes Django's schema editor added (config/postgresql)."""

    dependencies = [("accounts", "0002_application_owner_id")]

    operations = [
        migrations.RunPython(pattern_ops_twins_drop("accounts"), migrations.RunPython.noop),
    ]
