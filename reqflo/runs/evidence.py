"""A run's evidence bundle: its facts and every stored step result, as one JSON document.

The bundle is what a reviewer keeps: the run (journey, version, artifact, environment, case,
masked inputs, who and when) and each step's stored evidence exactly as the database holds it
(already redacted, DESIGN.md section 5), in step order.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from reqflo.engine import numbers
from reqflo.runs.models import Run, StepResult

BUNDLE_SCHEMA = "reqflo.evidence/v1"


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def evidence_bundle(*, run_id: UUID) -> dict[str, Any]:
    """Return the bundle of run ``run_id`` as a JSON-ready dict."""
    run = Run.objects.select_related(
        "journey_version__journey", "artifact", "environment", "case", "triggered_by"
    ).get(pk=run_id)
    who = run.triggered_by
    steps = [
        {
            "index": row.index,
            "step_id": row.step_id,
            "status": row.status,
            "attempt": row.attempt,
            "evidence": row.evidence,
        }
        for row in StepResult.objects.filter(run=run).order_by("index")
    ]
    return {
        "schema": BUNDLE_SCHEMA,
        "run": {
            "id": str(run.pk),
            "journey": run.journey_version.journey.name,
            "journey_version": run.journey_version.number,
            "artifact_id": run.artifact.artifact_id,
            "environment": run.environment.name,
            "case": run.case.name if run.case else None,
            "inputs": run.inputs,
            "status": run.status,
            "error_message": run.error_message,
            "trigger": run.trigger,
            "triggered_by": (who.email or who.get_username()) if who else None,
            "runner_kind": run.runner_kind,
            "step_count": run.step_count,
            "attempts": run.attempts,
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
        },
        "steps": steps,
    }


def evidence_bundle_json(*, run_id: UUID) -> str:
    """Return the bundle of run ``run_id`` as indented JSON text."""
    return numbers.dumps(evidence_bundle(run_id=run_id), ensure_ascii=False, indent=2) + "\n"
