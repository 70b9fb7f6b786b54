"""A run's evidence bundle: every stored step result with its digest, and the run's facts.

The bundle is ``reqflo.runs.selectors.run_evidence_bundle`` (format ``reqflo-evidence/1``: the
run's id, status and head digest, each step's evidence, status and digest), with what a
reviewer needs beside it added under ``run`` (journey, version, artifact, environment, case,
masked inputs, who and when) and the Cloud Runner's ``attempts``. ``reqflo.engine.digest.
verify_bundle`` checks the downloaded file offline: one changed byte of any step's evidence,
status or place, or a removed step, breaks the chain (DESIGN.md section 6; docs/runs.md).
Everything in it was redacted before it was stored (DESIGN.md section 5).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from reqflo.engine import numbers
from reqflo.runs.hooks import run_attempt_records
from reqflo.runs.models import Run
from reqflo.runs.selectors import run_evidence_bundle


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def evidence_bundle(*, run_id: UUID) -> dict[str, Any]:
    """Return the bundle of run ``run_id`` as a JSON-ready dict."""
    run = Run.objects.select_related(
        "journey_version__journey", "artifact", "environment", "case", "triggered_by"
    ).get(pk=run_id)
    bundle = run_evidence_bundle(run=run)
    who = run.triggered_by
    bundle["run"].update(
        {
            "journey": run.journey_version.journey.name,
            "journey_version": run.journey_version.number,
            "artifact_id": run.artifact.artifact_id,
            "environment": run.environment.name,
            "case": run.case.name if run.case else None,
            "batch_row": run.batch_row,
            "row_label": run.row_label,
            "inputs": run.inputs,
            "error_message": run.error_message,
            "trigger": run.trigger,
            "triggered_by": (who.email or who.get_username()) if who else None,
            "runner_kind": run.runner_kind,
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
        }
    )
    bundle["attempts"] = [record.to_dict() for record in run_attempt_records(run.pk)]
    return bundle


def evidence_bundle_json(*, run_id: UUID) -> str:
    """Return the bundle of run ``run_id`` as indented JSON text."""
    return numbers.dumps(evidence_bundle(run_id=run_id), ensure_ascii=False, indent=2) + "\n"
