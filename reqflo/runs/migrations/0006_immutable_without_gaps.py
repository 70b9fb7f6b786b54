"""Immutability without gaps: no INSERT into a finished run's results, no TRUNCATE.

Replaces the triggers of 0002 with those of ``reqflo.runs.triggers`` (read it for what they
refuse). Going back restores 0002's.
"""

import importlib
from typing import Any

from django.db import migrations

from reqflo.runs.triggers import triggers_drop, triggers_install

_first = importlib.import_module("reqflo.runs.migrations.0002_immutable_runs")


def forward(apps: Any, schema_editor: Any) -> None:
    triggers_install(schema_editor)


def backward(apps: Any, schema_editor: Any) -> None:
    triggers_drop(schema_editor)
    _first.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("runs", "0005_step_digest_chain")]

    operations = [migrations.RunPython(forward, backward)]
