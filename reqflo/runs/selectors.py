"""Reads of runs and their evidence, and run facts for the journeys pages.

The journeys app sits below runs and never imports it: ``RunsConfig.ready`` registers the
annotators here as its hooks, so the journeys list and history show run facts in the same
statement that lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from reqflo.engine import StepResult as EngineStepResult
from reqflo.engine import numbers
from reqflo.engine.digest import ChainCheck, verify_bundle
from reqflo.journeys.models import Journey, JourneyVersion
from reqflo.runs.hooks import AttemptRecord, run_attempt_records
from reqflo.runs.models import (
    TERMINAL_STATUSES,
    CiRunInfo,
    Run,
    RunBatch,
    RunStatus,
    StepResult,
    Trigger,
    batch_row_label,
)
from reqflo.runs.seals import seal_key


def run_step_evidence(*, run: Run) -> list[EngineStepResult]:
    """Return the run's stored step results, in step order, as the engine's result objects."""
    rows = StepResult.objects.filter(run=run).order_by("index").only("evidence")
    return [EngineStepResult.from_dict(row.evidence) for row in rows]


def run_evidence_bundle(*, run: Run) -> dict[str, Any]:
    """Return the run's evidence as stored, with its digests and seal, as a JSON-ready dict.

    ``{"format": "reqflo-evidence/1", "run": {"id", "status", "step_count", "head_digest",
    "artifact_id", "inputs", "attempts"}, "steps": [{"index", "step_id", "status", "evidence",
    "digest"}, ...], "seal": {"digest", "signature"} | None}``, steps in index order.
    ``reqflo.engine.digest.verify_bundle`` checks it offline (no database; the seal's
    signature only with the server's key).
    """
    # Read the run row again: the caller's copy may predate the last checkpoint or the finish.
    row = Run.objects.select_related("artifact", "seal").get(pk=run.pk)
    rows = StepResult.objects.filter(run_id=run.pk).order_by("index")
    steps: list[dict[str, Any]] = [
        dict(step) for step in rows.values("index", "step_id", "status", "evidence", "digest")
    ]
    return _bundle(row, steps)


def _bundle(run: Run, steps: list[dict[str, Any]]) -> dict[str, Any]:
    seal = getattr(run, "seal", None) if run.is_finished else None
    return {
        "format": "reqflo-evidence/1",
        "run": {
            "id": str(run.pk),
            "status": run.status,
            "step_count": run.step_count,
            "head_digest": run.head_digest,
            "artifact_id": run.artifact.artifact_id,
            "inputs": run.inputs,
            "attempts": run.attempts,
        },
        "steps": steps,
        "seal": {"digest": seal.digest, "signature": seal.signature} if seal else None,
    }


def run_ci_info(*, run: Run) -> CiRunInfo | None:
    """Return where a published CI run came from (None for any other run)."""
    return CiRunInfo.objects.filter(run_id=run.pk).first()


def verify_run_chain(run: Run) -> ChainCheck:
    """Verify ``run``'s digest chain and, once finished, its head and signed seal.

    Returns ``ChainCheck`` (``ok``; else ``broken_at``, the first step index that does not
    verify, or None when only the head or the seal is wrong, and ``reason``). Rule: DESIGN.md
    section 6 and docs/runs.md ("What the seal proves").
    """
    return verify_bundle(run_evidence_bundle(run=run), key=seal_key())


# ``Run.shown_status`` in SQL: a run given back to the queue part-way shows as queued.
SHOWN_STATUS = Case(
    When(status=RunStatus.RUNNING, lease_holder="", then=Value(RunStatus.QUEUED.value)),
    default=F("status"),
    output_field=CharField(),
)


def journeys_with_run_facts(journeys: QuerySet[Journey]) -> QuerySet[Journey]:
    """Annotate ``last_run_status`` and ``last_run_at`` (None when it never ran) on each journey.

    Both come from the journey's newest run of any version, as correlated subqueries.
    """
    latest = (
        Run.objects.filter(journey_version__journey=OuterRef("pk"))
        .exclude(trigger=Trigger.SEND)  # a Send ran unsaved content, not the journey
        .order_by("-created_at")
    )
    return journeys.annotate(
        last_run_status=Subquery(latest.annotate(shown=SHOWN_STATUS).values("shown")[:1]),
        last_run_at=Subquery(latest.values("created_at")[:1]),
    )


def versions_with_run_facts(versions: QuerySet[JourneyVersion]) -> QuerySet[JourneyVersion]:
    """Annotate ``run_count`` (runs that used it) and ``last_run_status`` (None if none did)."""
    runs = Run.objects.filter(journey_version=OuterRef("pk")).exclude(trigger=Trigger.SEND)
    # ``order_by()`` drops Run's default ordering, which would otherwise split the GROUP BY.
    counts = runs.order_by().values("journey_version").annotate(n=Count("pk")).values("n")
    return versions.annotate(
        run_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        last_run_status=Subquery(
            runs.order_by("-created_at").annotate(shown=SHOWN_STATUS).values("shown")[:1]
        ),
    )


def last_send_statuses(journey: Journey) -> dict[str, str]:
    """Return {step id: its status in the newest editor Send of ``journey`` that ran it}.

    Only finished sends count: a step still being sent keeps its previous mark.
    """
    # A window, not PostgreSQL's DISTINCT ON: the embedded default (SQLite) serves this too.
    newest_first = Window(
        RowNumber(), partition_by=[F("step_id")], order_by=F("run__created_at").desc()
    )
    rows = (
        StepResult.objects.filter(
            run__journey_version__journey=journey,
            run__trigger=Trigger.SEND,
            run__status__in=TERMINAL_STATUSES,
        )
        .annotate(newest=newest_first)
        .filter(newest=1)
        .values_list("step_id", "status")
    )
    return dict(rows)


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


# --- Run detail ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepView:
    """One planned step of a run as its page shows it.

    ``state`` is the stored result's status (passed, failed, error, skipped), or, without a
    result: ``running`` (the step a running run works on), ``pending`` (later steps of an
    unfinished run) or ``not_run`` (the run ended before it). ``attempt`` is the run attempt
    (lease claim) that stored the result. ``stored`` says whether it has a result; a stored
    step read ``light`` has no ``result`` loaded (the browser already shows it, see
    ``run_detail``). ``digest`` is the stored result's chain digest: it names its content, so
    the page caches the step's rendered panel under it.
    """

    index: int
    step_id: str
    name: str
    state: str
    result: EngineStepResult | None
    attempt: int | None
    stored: bool = False
    light: bool = False
    digest: str = ""


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with what its page needs, read in a fixed number of queries.

    ``chain`` is the verification of the evidence digest chain (None when not asked for);
    ``attempts`` the Cloud Runner's record of each lease claim (empty when not asked for).
    """

    run: Run
    steps: list[StepView]
    counts: dict[str, int]
    chain: ChainCheck | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        run = self.run
        if run.started_at is None:
            return None
        end = run.finished_at or timezone.now()
        return (end - run.started_at).total_seconds()

    @property
    def stored(self) -> int:
        """How many steps have a stored result (always the first ones, in order)."""
        return sum(1 for step in self.steps if step.stored)


RUN_PAGE_RELATED = (
    "workspace",
    "seal",
    "journey_version__journey",
    "artifact",
    "environment",
    "case",
    "triggered_by",
    "cancelled_by",
    "batch",
    "retry_of",
)


def run_detail(*, run_id: UUID, full: bool = True, light_before: int = 0) -> RunDetail:
    """Return the run ``run_id`` with its planned steps and their stored evidence.

    Two queries; ``full`` adds the attempt records (one more) and verifies the digest chain
    over the rows already read (DESIGN.md section 6), as the page shows them. The live part
    leaves them out, and passes ``light_before``: the number of stored steps the browser
    already shows. Stored results never change, so those are read without their evidence and
    sent as placeholders the browser keeps its own copy for (``hx-preserve``).
    """
    run = Run.objects.select_related(*RUN_PAGE_RELATED).get(pk=run_id)
    fields = ["index", "step_id", "status", "attempt", "evidence", "digest"]
    results = StepResult.objects.filter(run=run)
    if light_before and not full:
        heavy = results.filter(index__gte=light_before).only(*fields)
        light = results.filter(index__lt=light_before).only("index", "status", "attempt")
        rows = {row.index: row for row in [*light, *heavy]}
    else:
        rows = {row.index: row for row in results.only(*fields)}
    # The plan as stored (canonical JSON): only the step ids and names are read here.
    plan = numbers.loads(run.artifact.plan)
    steps: list[StepView] = []
    counts: dict[str, int] = {}
    for index, step in enumerate(plan["steps"]):
        row = rows.get(index)
        is_light = row is not None and index < light_before and not full
        result = None
        if row is not None:
            state: str = row.status
            if not is_light:
                result = EngineStepResult.from_dict(row.evidence)
        elif run.is_finished:
            state = "not_run"
        elif run.status == RunStatus.RUNNING and not run.waiting and index == run.next_step:
            state = "running"  # not while the run waits to be resumed: nobody runs it
        else:
            state = "pending"
        counts[state] = counts.get(state, 0) + 1
        steps.append(
            StepView(
                index=index,
                step_id=str(step["id"]),
                name=str(step["name"]),
                state=state,
                result=result,
                attempt=row.attempt if row is not None else None,
                stored=row is not None,
                light=is_light,
                digest=row.digest if row is not None and not is_light else "",
            )
        )
    if not full:
        return RunDetail(run=run, steps=steps, counts=counts)
    records = [
        {
            "index": row.index,
            "step_id": row.step_id,
            "status": row.status,
            "evidence": row.evidence,
            "digest": row.digest,
        }
        for row in sorted(rows.values(), key=lambda row: row.index)
    ]
    chain = verify_bundle(_bundle(run, records), key=seal_key())
    return RunDetail(
        run=run,
        steps=steps,
        counts=counts,
        chain=chain,
        attempts=run_attempt_records(run.pk),
    )


def run_facts_key(run: Run) -> str:
    """Name what the run page shows outside its steps: status, attempts, cancel requested.

    The page's poll sends the key it shows; when the run's differs, the poll answers the
    header, facts, evidence, attempts and buttons again too (out of band, docs/htmx.md).
    """
    cancelling = "c" if run.cancel_requested_at is not None else ""
    # Given back to the queue (``Run.waiting``) shows as queued, and its holder changes.
    return f"{run.shown_status}.{run.attempts}{cancelling}"


def with_run_facts(detail: RunDetail) -> RunDetail:
    """Return ``detail`` with its chain verified and its attempts read (three more queries).

    For a live part read ``light`` (without the evidence the browser already shows): the chain
    is verified over the stored rows read again, as the page verifies them.
    """
    return replace(
        detail,
        chain=verify_run_chain(detail.run),
        attempts=run_attempt_records(detail.run.pk),
    )


def run_step_result(*, run: Run, index: int) -> EngineStepResult | None:
    """Return the stored result of step ``index`` of ``run`` (None when it has none)."""
    row = StepResult.objects.filter(run=run, index=index).only("evidence").first()
    return EngineStepResult.from_dict(row.evidence) if row is not None else None


# --- Batches ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchChild:
    """One row of a batch as its page lists it (``run_id`` None until the fan-out made it).

    Plain values, not model instances: a 1,000-row page renders each row from a few strings.
    """

    row: int
    run_id: UUID | None = None
    status: str = ""  # as pages show it: ``queued`` for a run given back to the queue
    seconds: float | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return batch_row_label(self.row, self.name)

    @property
    def short_id(self) -> str:
        return str(self.run_id)[:8] if self.run_id else ""

    @property
    def status_label(self) -> str:
        return RunStatus(self.status).label if self.status else ""


FAILED_STATUSES = (RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED)


def batch_children(*, batch: RunBatch, failures_only: bool = False) -> list[BatchChild]:
    """Return a child per row of ``batch`` in row order, in one query.

    ``failures_only`` keeps the rows whose run failed, ended in error or was cancelled.
    """
    runs = Run.objects.filter(batch=batch, batch_row__isnull=False)
    if failures_only:
        runs = runs.filter(status__in=FAILED_STATUSES)
    by_row: dict[int, BatchChild] = {}
    columns = ("id", "batch_row", "status", "started_at", "finished_at", "batch_label")
    for pk, row, status, started, finished, name, holder in runs.order_by("batch_row").values_list(
        *columns, "lease_holder"
    ):
        seconds = (finished - started).total_seconds() if started and finished else None
        assert row is not None  # filtered above: every child of a batch has its row
        if status == RunStatus.RUNNING and not holder:
            status = RunStatus.QUEUED  # given back to the queue part-way (``Run.waiting``)
        by_row[row] = BatchChild(row=row, run_id=pk, status=status, seconds=seconds, name=name)
    rows = sorted(by_row) if failures_only else range(batch.row_count)
    return [by_row.get(row) or BatchChild(row=row) for row in rows]


def last_run_with_status(*, run: Run, status: str) -> Run | None:
    """Return the last run of ``run``'s journey that ended ``status`` before ``run`` was created.

    "Before" is creation order, as history lists runs: (created_at, id), so two runs created in
    the same microsecond still have one order, and a later run is never the one compared with.
    """
    earlier = Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, pk__lt=run.pk)
    return (
        Run.objects.filter(
            earlier,
            workspace_id=run.workspace_id,
            journey_version__journey_id=run.journey_version.journey_id,
            status=status,
        )
        .order_by("-created_at", "-id")
        .only("id", "created_at")
        .first()
    )
