from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="oauthclient",
            name="is_suspended",
            field=models.BooleanField(default=False, verbose_name="suspended"),
        ),
    ]
