"""Reads of runs and their evidence, and run facts for the journeys pages.

The journeys app sits below runs and never imports it: ``RunsConfig.ready`` registers the
annotators here as its hooks, so the journeys list and history show run facts in the same
statement that lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reqflo.engine import StepResult as EngineStepResult
from reqflo.engine.digest import ChainCheck, verify_bundle
from reqflo.journeys.models import Journey, JourneyVersion
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunBatch, RunStatus, StepResult


def run_step_evidence(*, run: Run) -> list[EngineStepResult]:
    """Return the run's stored step results, in step order, as the engine's result objects."""
    rows = StepResult.objects.filter(run=run).order_by("index").only("evidence")
    return [EngineStepResult.from_dict(row.evidence) for row in rows]


def run_evidence_bundle(*, run: Run) -> dict[str, Any]:
    """Return the run's evidence as stored, with its digests, as a JSON-ready dict.

    ``{"format": "reqflo-evidence/1", "run": {"id", "status", "step_count", "head_digest"},
    "steps": [{"index", "step_id", "status", "evidence", "digest"}, ...]}``, steps in index
    order. ``reqflo.engine.digest.verify_bundle`` checks it offline (no database).
    """
    # Read the run row again: the caller's copy may predate the last checkpoint or the finish.
    status, step_count, head = Run.objects.values_list("status", "step_count", "head_digest").get(
        pk=run.pk
    )
    rows = StepResult.objects.filter(run_id=run.pk).order_by("index")
    return {
        "format": "reqflo-evidence/1",
        "run": {"id": str(run.pk), "status": status, "step_count": step_count, "head_digest": head},
        "steps": list(rows.values("index", "step_id", "status", "evidence", "digest")),
    }


def verify_run_chain(run: Run) -> ChainCheck:
    """Verify the digest chain of ``run``'s stored step results and, once finished, its head.

    Returns ``ChainCheck`` (``ok``; else ``broken_at``, the first step index that does not
    verify, or None when only the head is wrong, and ``reason``). Rule: DESIGN.md section 6.
    """
    return verify_bundle(run_evidence_bundle(run=run))


def journeys_with_run_facts(journeys: QuerySet[Journey]) -> QuerySet[Journey]:
    """Annotate ``last_run_status`` and ``last_run_at`` (None when it never ran) on each journey.

    Both come from the journey's newest run of any version, as correlated subqueries.
    """
    latest = Run.objects.filter(journey_version__journey=OuterRef("pk")).order_by("-created_at")
    return journeys.annotate(
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("created_at")[:1]),
    )


def versions_with_run_facts(versions: QuerySet[JourneyVersion]) -> QuerySet[JourneyVersion]:
    """Annotate ``run_count`` (runs that used it) and ``last_run_status`` (None if none did)."""
    runs = Run.objects.filter(journey_version=OuterRef("pk"))
    # ``order_by()`` drops Run's default ordering, which would otherwise split the GROUP BY.
    counts = runs.order_by().values("journey_version").annotate(n=Count("pk")).values("n")
    return versions.annotate(
        run_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        last_run_status=Subquery(runs.order_by("-created_at").values("status")[:1]),
    )


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """A batch's children counted by status, and the status of the batch as a whole.

    ``status``: ``queued`` until a child starts, ``running`` while any child is unfinished,
    then ``passed`` (every child passed), ``cancelled`` (the batch was cancelled) or ``failed``
    (any child failed or ended in error).
    """

    total: int
    counts: dict[str, int]
    status: str

    @property
    def finished(self) -> int:
        return sum(self.counts.get(status, 0) for status in TERMINAL_STATUSES)


def batch_summary(*, batch: RunBatch) -> BatchSummary:
    """Count ``batch``'s children by status in one query and derive the batch's status."""
    rows = batch.runs.order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    created = sum(counts.values())
    missing = batch.row_count - created
    if batch.cancel_requested_at is not None and missing:
        # Cancelled before its fan-out completed: those children will never be created.
        counts[RunStatus.CANCELLED] = counts.get(RunStatus.CANCELLED, 0) + missing
        created, missing = batch.row_count, 0
    unfinished = missing + sum(counts.get(s, 0) for s in (RunStatus.QUEUED, RunStatus.RUNNING))
    if unfinished:
        started = created - counts.get(RunStatus.QUEUED, 0) > 0
        status = RunStatus.RUNNING if started else RunStatus.QUEUED
    elif counts.get(RunStatus.PASSED, 0) == batch.row_count:
        status = RunStatus.PASSED
    elif batch.cancel_requested_at is not None:
        status = RunStatus.CANCELLED
    else:
        status = RunStatus.FAILED
    return BatchSummary(total=batch.row_count, counts=counts, status=str(status))
