"""Seals and attempt records cannot be deleted, truncated or rewritten (``reqflo.runs.triggers``).

A run's seal (``runs_runseal``) and its attempt records (``runners_runattempt``) are evidence
beside the step results: what the seal signs, and who held each lease and why it ended. An
editor send's are deleted with it when sends are pruned (runs 0015). Going back drops the
triggers.
"""

from typing import Any

from django.db import migrations

from reqflo.runs.triggers import record_triggers_drop, record_triggers_install


def install(apps: Any, schema_editor: Any) -> None:
    record_triggers_install(schema_editor)


def drop(apps: Any, schema_editor: Any) -> None:
    record_triggers_drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("runners", "0007_runner_delivery_and_boots"), ("runs", "0015_prunable_sends")]

    operations = [migrations.RunPython(install, drop)]
