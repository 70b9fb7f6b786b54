"""Editor sends may be deleted once finished (their results too); every other run stays as it is.

Installs the current ``reqflo.runs.triggers`` (read it for what they refuse). Going back
makes every finished run undeletable again, as 0006 did (a send's step results stay
deletable: without their run they cannot be, the run row being refused first).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from reqflo.runs.triggers import triggers_install


def forward(apps: Any, schema_editor: Any) -> None:
    triggers_install(schema_editor)


def backward(apps: Any, schema_editor: Any) -> None:
    # 0006's triggers are today's without the send exceptions: install, then re-create the
    # strict ones over them.
    from reqflo.runs import triggers

    triggers_install(schema_editor)
    strict = {
        "postgresql": [
            "DROP TRIGGER IF EXISTS runs_run_finished_no_delete ON runs_run;",
            "DROP TRIGGER IF EXISTS runs_run_finished_immutable ON runs_run;",
            "CREATE TRIGGER runs_run_finished_immutable BEFORE UPDATE OR DELETE ON runs_run "
            f"FOR EACH ROW WHEN (OLD.status IN {triggers.TERMINAL}) "
            "EXECUTE FUNCTION runs_reject_change();",
        ],
        "sqlite": [
            "DROP TRIGGER IF EXISTS runs_run_finished_no_delete;",
            "CREATE TRIGGER runs_run_finished_no_delete BEFORE DELETE ON runs_run "
            f"WHEN OLD.status IN {triggers.TERMINAL} "
            "BEGIN SELECT RAISE(ABORT, 'finished runs are immutable: DELETE is not allowed'); END;",
        ],
    }
    triggers.run_for_vendor(schema_editor, strict)


class Migration(migrations.Migration):
    dependencies = [("runs", "0014_run_batch_label")]

    operations = [migrations.RunPython(forward, backward)]
