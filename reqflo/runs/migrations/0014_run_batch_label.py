"""A batch child's name, from its data file's case (else name) column.

SQLite adds a column by rebuilding the table, which its triggers on ``runs_stepresult`` (they
read ``runs_run``) refuse: there they are dropped for the rebuild and installed again.
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
        ("runs", "0013_run_seal"),
    ]

    operations = [
        migrations.RunPython(_drop_on_sqlite, _install_on_sqlite),
        migrations.AddField(
            model_name="run",
            name="batch_label",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.RunPython(_install_on_sqlite, _drop_on_sqlite),
    ]
