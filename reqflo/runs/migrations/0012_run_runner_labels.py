"""A run's runner label selector (self-hosted runners, docs/self-hosted-runners.md).

SQLite adds a JSON column by rebuilding the table, which its triggers on ``runs_run`` do not
survive; they are dropped first and created again after (``reqflo.runs.triggers``).
PostgreSQL adds the column in place and keeps its triggers.
"""

from typing import Any

from django.db import migrations, models

from reqflo.runs.triggers import triggers_drop, triggers_install


def _drop_on_sqlite(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        triggers_drop(schema_editor)


def _install_on_sqlite(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        triggers_install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0011_checkpoints_reseal_under_a_new_key"),
    ]

    operations = [
        migrations.RunPython(_drop_on_sqlite, _install_on_sqlite),
        migrations.AddField(
            model_name="run",
            name="runner_labels",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(_install_on_sqlite, _drop_on_sqlite),
    ]
