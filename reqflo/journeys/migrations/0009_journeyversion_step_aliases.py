"""A version remembers the earlier ids of its steps (``step_aliases``), for the editor's marks.

On SQLite (the embedded default) adding a column rebuilds the table, which drops 0002's
immutability triggers; they are created again here (``tests/test_smoke_embedded.py`` and
``tests/runs/test_immutability_sqlite.py`` check them after every migration).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

TABLE = "journeys_journeyversion"


def restore_sqlite_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL keeps its triggers through ALTER TABLE ... ADD COLUMN
    for operation in ("UPDATE", "DELETE"):
        name = f"{TABLE}_no_{operation.lower()}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
        schema_editor.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {TABLE} BEGIN SELECT "
            f"RAISE(ABORT, '{TABLE} rows are immutable: {operation} is not allowed'); END;"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0008_journey_default_runner"),
    ]

    operations = [
        migrations.AddField(
            model_name="journeyversion",
            name="step_aliases",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
