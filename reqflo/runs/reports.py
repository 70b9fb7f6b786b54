"""Reports of stored runs: the CLI's JSON and JUnit formats, rebuilt from the stored evidence.

A stored run becomes the engine's ``RunResult`` again (``run_result``), and the engine's own
reporters (``reqflo.engine.report``) write it, so a download from the server and a report of
``reqflo run`` are the same format and schema (docs/report-format.md,
docs/reqflo.report-v1.schema.json, the Jenkins ``junit-10.xsd``).

Two things differ from a local run and are mapped onto the v1 vocabulary:

- A run's status is ``passed``, ``failed`` or ``error`` in a report. A cancelled run is an
  ``error`` (it did not complete); its stored ``error_message`` says who cancelled it.
- A cloud run that ended early (cancelled, timed out, out of attempts) has no evidence for the
  steps it never reached. Each such step is reported ``skipped`` with the reason "not run: …"
  and the run's own message, so a report always lists every step of the plan.

Only finished runs have a report: an unfinished run raises ``RunNotFinished``. The evidence is
already redacted (it was stored that way), so nothing here can reveal a secret.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from uuid import UUID

from django.utils import timezone

from reqflo.engine import RunResult
from reqflo.engine import StepResult as EngineStepResult
from reqflo.engine.compiler import Artifact
from reqflo.engine.report import ReportMeta, ReportSummary, write_json, write_junit
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunBatch, RunStatus, StepResult

GENERATOR = "reqflo server"
# How many children of a batch are read from the database at a time for its combined report.
BATCH_CHUNK = 200


class RunNotFinished(Exception):
    """The run has not finished yet, so it has no report; ``str(error)`` says so."""


def _iso(moment: datetime | None) -> str:
    """Return ``moment`` as ISO-8601 UTC with a ``Z``, as the engine writes times ("" if None)."""
    if moment is None:
        return ""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _report_status(run: Run) -> str:
    if run.status == RunStatus.CANCELLED:
        return "error"
    return str(run.status)


def run_label(run: Run) -> str | None:
    """Return how reports name the run beside its journey: the data row, else the case name."""
    if run.batch_row is not None:
        return run.row_label
    return run.case.name if run.case_id and run.case else None


def _not_run(
    plan_steps: list[dict[str, object]], have: set[int], reason: str
) -> dict[int, EngineStepResult]:
    return {
        index: EngineStepResult(
            index=index,
            step_id=str(step["id"]),
            name=str(step["name"]),
            status="skipped",
            skip_reason=reason,
            always=bool(step.get("always", False)),
        )
        for index, step in enumerate(plan_steps)
        if index not in have
    }


def run_result(run: Run, *, evidence: Iterable[StepResult] | None = None) -> RunResult:
    """Rebuild the engine's ``RunResult`` of finished ``run`` from its stored step results.

    ``evidence`` (the run's ``StepResult`` rows, any order) saves the query when the caller
    already has them. The run's ``artifact``, ``environment`` and ``case`` are read through it,
    so select them with the run when reporting many. Raises ``RunNotFinished``.
    """
    if not run.is_finished:
        raise RunNotFinished(f"The run is still {run.status}: its report is ready once it ends.")
    rows = evidence if evidence is not None else StepResult.objects.filter(run=run)
    stored = {row.index: EngineStepResult.from_dict(row.evidence) for row in rows}
    artifact = Artifact.from_json(run.artifact.plan)
    plan_steps: list[dict[str, object]] = artifact.plan["steps"]
    if len(stored) < len(plan_steps):
        why = run.error_message or f"the run ended {run.status} before this step"
        stored.update(_not_run(plan_steps, set(stored), f"not run: {why}"))
    started, finished = run.started_at, run.finished_at
    duration = (finished - started).total_seconds() * 1000 if started and finished else 0.0
    return RunResult(
        run_id=str(run.pk),
        journey_name=artifact.journey_name,
        journey_slug=artifact.journey_slug,
        artifact_id=artifact.id,
        status=_report_status(run),  # type: ignore[arg-type]  # one of the three, see above
        steps=[stored[index] for index in sorted(stored)],
        started_at=_iso(started or run.created_at),
        finished_at=_iso(finished),
        duration_ms=round(max(duration, 0.0), 3),
        label=run_label(run),
        environment=run.environment.name,
        inputs=dict(run.inputs),
        row=run.batch_row + 1 if run.batch_row is not None else None,
    )


def _meta(run: Run) -> ReportMeta:
    return ReportMeta(
        generator=GENERATOR,
        created_at=_iso(timezone.now()),
        environment=run.environment.name,
        case=run.case.name if run.case_id and run.case else None,
        runner=str(run.runner_kind),
    )


def _reported(run: Run) -> Run:
    return Run.objects.select_related("artifact", "environment", "case").get(pk=run.pk)


def run_json_report(run: Run) -> str:
    """Return the ``reqflo.report/v1`` JSON document of finished ``run``; raises RunNotFinished."""
    run = _reported(run)
    buffer = io.StringIO()
    write_json([run_result(run)], buffer, meta=_meta(run))
    return buffer.getvalue()


def run_junit_report(run: Run) -> str:
    """Return the JUnit XML of finished ``run`` (one suite, a testcase per step)."""
    run = _reported(run)
    result = run_result(run)
    buffer = io.StringIO()
    write_junit([result], buffer, name=result.journey_name)
    return buffer.getvalue()


def batch_results(batch: RunBatch) -> Iterator[RunResult]:
    """Yield the ``RunResult`` of every finished child of ``batch``, in row order.

    Children are read ``BATCH_CHUNK`` at a time with their evidence (two queries a chunk), so a
    1,000-row batch never holds every child in memory at once. Unfinished children are left out.
    """
    base = (
        Run.objects.filter(batch=batch, status__in=TERMINAL_STATUSES)
        .select_related("artifact", "environment", "case")
        .order_by("batch_row")
    )
    last = -1
    while True:
        chunk = list(base.filter(batch_row__gt=last)[:BATCH_CHUNK])
        if not chunk:
            return
        rows: dict[UUID, list[StepResult]] = {run.pk: [] for run in chunk}
        for row in StepResult.objects.filter(run__in=chunk).only("run_id", "index", "evidence"):
            rows[row.run_id].append(row)
        for run in chunk:
            yield run_result(run, evidence=rows[run.pk])
        last = chunk[-1].batch_row if chunk[-1].batch_row is not None else last


def batch_junit_report(batch: RunBatch) -> tuple[str, ReportSummary]:
    """Return the combined JUnit XML of ``batch``'s finished children (a suite per row).

    Also returns the totals written, so a caller can say how many runs it covers. The document
    is named after the batch's journey.
    """
    name = Artifact.from_json(batch.journey_version.artifact.plan).journey_name
    buffer = io.StringIO()
    summary = write_junit(batch_results(batch), buffer, name=name)
    return buffer.getvalue(), summary
