"""Reads of runs and their evidence."""

from __future__ import annotations

from reqflo.engine import StepResult as EngineStepResult
from reqflo.runs.models import Run, StepResult


def run_step_evidence(*, run: Run) -> list[EngineStepResult]:
    """Return the run's stored step results, in step order, as the engine's result objects."""
    rows = StepResult.objects.filter(run=run).order_by("index").only("evidence")
    return [EngineStepResult.from_dict(row.evidence) for row in rows]
