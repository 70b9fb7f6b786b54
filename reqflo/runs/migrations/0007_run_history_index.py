"""The run history's keyset index: (workspace, created_at desc, id desc)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_worker_ping"),
        ("journeys", "0004_version_secrets_backfill"),
        ("runs", "0006_immutable_without_gaps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="run",
            index=models.Index(fields=["workspace", "-created_at", "-id"], name="run_history"),
        ),
    ]
