"""The token list's page cache is gone (bench W5 with a varied workload, docs/benchmarks.md:
no request repeats, so the cache never served a page and only added a lookup), and with it
the per-user list version and the statement triggers that kept it (migration 0006).
"""

import importlib

from django.db import migrations

LIST_VERSION = importlib.import_module("tokens.migrations.0006_oauthtoken_list_version")


class Migration(migrations.Migration):
    dependencies = [("tokens", "0008_oauthtoken_list_folded_name_indexes")]

    operations = [
        migrations.RunSQL(LIST_VERSION.DROP, reverse_sql=LIST_VERSION.CREATE),
        migrations.DeleteModel(name="OAuthTokenListVersion"),
    ]
