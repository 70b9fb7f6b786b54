"""The evidence digest chain: ``StepResult.digest`` and ``Run.head_digest``, back-filled.

Each step result stored before this migration gets its chained digest and each run its head
(``reqflo.engine.digest``), so every stored run verifies. The back-fill writes to rows the
immutability triggers of 0002 protect: on PostgreSQL they are disabled for this transaction
only (the migration runs as the tables' owner); on SQLite adding the columns rebuilt both
tables, which dropped the triggers, so they are created again after the back-fill.
"""

import importlib
from typing import Any

from django.db import migrations, models

from reqflo.engine.digest import GENESIS, step_digest

_immutable = importlib.import_module("reqflo.runs.migrations.0002_immutable_runs")
_PROTECTED = (
    ("runs_stepresult", "runs_stepresult_immutable"),
    ("runs_run", "runs_run_finished_immutable"),
)


def _set_triggers(schema_editor: Any, enabled: bool) -> None:
    if schema_editor.connection.vendor == "postgresql":
        verb = "ENABLE" if enabled else "DISABLE"
        # ALTER TABLE refuses while deferred foreign-key checks of the updates are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE;")
        for table, trigger in _PROTECTED:
            schema_editor.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger};")
    elif enabled and schema_editor.connection.vendor == "sqlite":
        for statement in _immutable.DROP_SQLITE + _immutable.SQLITE:
            schema_editor.execute(statement, params=None)


def backfill_digests(apps: Any, schema_editor: Any) -> None:
    Run = apps.get_model("runs", "Run")
    StepResult = apps.get_model("runs", "StepResult")
    _set_triggers(schema_editor, enabled=False)
    run_ids = StepResult.objects.values_list("run_id", flat=True).distinct()
    for run_id in list(run_ids):
        previous = GENESIS
        rows = StepResult.objects.filter(run_id=run_id).order_by("index")
        for row in rows.only("pk", "index", "step_id", "status", "evidence"):
            previous = step_digest(
                previous,
                run_id=str(run_id),
                index=row.index,
                step_id=row.step_id,
                status=row.status,
                evidence=row.evidence,
            )
            StepResult.objects.filter(pk=row.pk).update(digest=previous)
        Run.objects.filter(pk=run_id).update(head_digest=previous)
    _set_triggers(schema_editor, enabled=True)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0004_dispatch_cancel_nudge"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="head_digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="stepresult",
            name="digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(backfill_digests, migrations.RunPython.noop),
    ]
