"""Many runs made fast for history tests: copies of one dispatched run with chosen fields.

Only the history reads these rows (no worker ever sees them), so they are inserted directly,
as finished or queued runs with the creation time the test picks (ties included).
"""

from __future__ import annotations

from typing import Any

from reqflo.runs.models import Run


def copies(template: Run, specs: list[dict[str, Any]]) -> list[Run]:
    """Insert one run per spec (fields of ``Run`` that differ from ``template``)."""
    base = {
        "workspace_id": template.workspace_id,
        "journey_version_id": template.journey_version_id,
        "artifact_id": template.artifact_id,
        "environment_id": template.environment_id,
        "case_id": template.case_id,
        "inputs": template.inputs,
        "runner_kind": template.runner_kind,
        "trigger": template.trigger,
        "triggered_by_id": template.triggered_by_id,
        "step_count": template.step_count,
    }
    # auto_now_add ignores a given created_at, and a finished row never changes: insert every
    # run queued, then set its time and final status in the one update a run may still take.
    late = ("created_at", "status", "started_at", "finished_at")
    runs = Run.objects.bulk_create(
        [Run(**{**base, **{k: v for k, v in spec.items() if k not in late}}) for spec in specs]
    )
    for run, spec in zip(runs, specs, strict=True):
        changes = {k: spec[k] for k in late if k in spec}
        if changes:
            Run.objects.filter(pk=run.pk).update(**changes)
            for name, value in changes.items():
                setattr(run, name, value)
    return runs
