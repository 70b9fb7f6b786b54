"""The tick: dispatch every due schedule once, then settle the ticks whose runs have ended.

Celery beat sends ``reqflo.schedules.tasks.tick`` every ``REQFLO_SCHEDULES_TICK_SECONDS``; beat
keeps no state of its own that matters, so restarting it, or running two by mistake, dispatches
nothing twice. Three things make a due time run once:

1. the schedule row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and its ``next_due_at``
   moved past now in the same transaction as the dispatch;
2. a ``Tick`` is unique per (schedule, due time);
3. the dispatch carries the idempotency key ``schedule:<id>:<due time>``, so even a dispatch
   repeated after a crash between the run's commit and the tick's is the same run.

A tick is skipped (counted, not run) while the schedule's previous run has not ended: a target
slower than the interval never piles runs up. Runs respect the workspace's concurrency limit
like any dispatch (they wait ``queued``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.runners.services import (
    DispatchRefused,
    IdempotencyConflict,
    batch_dispatch,
    run_dispatch,
)
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunBatch, RunStatus, Trigger
from reqflo.runs.selectors import batch_summary
from reqflo.schedules.alerts import alerts_enqueue, alerts_for_outcome
from reqflo.schedules.models import RECENT_RESULTS, Schedule, Tick, TickOutcome
from reqflo.schedules.timing import Timing

logger = logging.getLogger(__name__)

# How many due schedules one tick task takes on; the next tick continues.
DISPATCH_BATCH = 500
# How many old ticks one tick task deletes.
PRUNE_BATCH = 2000


@dataclass(frozen=True, slots=True)
class TickReport:
    dispatched: int
    skipped: int
    settled: int
    alerts: int = 0
    pruned: int = 0


def timing_of(schedule: Schedule) -> Timing:
    interval = schedule.interval_seconds
    return Timing(
        interval=timedelta(seconds=interval) if interval else None,
        cron=schedule.cron,
        zone=schedule.timezone,
    )


def idempotency_key(schedule: Schedule, due_at: datetime) -> str:
    """The dispatch key of one tick: the same schedule and due time is the same run."""
    return f"schedule:{schedule.pk}:{due_at.astimezone(UTC).isoformat()}"


def _version_for(schedule: Schedule) -> JourneyVersion | None:
    if schedule.version_id is not None:
        return schedule.version
    return schedule.journey.head


def _dispatch(schedule: Schedule, due_at: datetime, now: datetime) -> Tick:
    """Dispatch the run (or batch) of one due time and record its tick (inside the claim)."""
    tick = Tick(schedule=schedule, due_at=due_at, dispatched_at=now)
    version = _version_for(schedule)
    try:
        if version is None:
            raise DispatchRefused([])
        key = idempotency_key(schedule, due_at)
        with transaction.atomic():
            if schedule.data_rows:
                tick.batch_id = batch_dispatch(
                    workspace=schedule.workspace,
                    version=version,
                    environment=schedule.environment,
                    case=schedule.case,
                    rows=schedule.data_rows,
                    trigger=Trigger.SCHEDULE,
                    idempotency_key=key,
                ).batch.pk
            else:
                tick.run = run_dispatch(
                    workspace=schedule.workspace,
                    version=version,
                    environment=schedule.environment,
                    case=schedule.case,
                    trigger=Trigger.SCHEDULE,
                    idempotency_key=key,
                ).run
    except DispatchRefused as refused:
        issues = "; ".join(f"{i.path}: {i.message}".lstrip(": ") for i in refused.issues)
        tick.refused = issues or "The journey has no version to run."
        tick.outcome = TickOutcome.FAILED
    except (ValidationError, IdempotencyConflict) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        tick.refused = message
        tick.outcome = TickOutcome.FAILED
    tick.save()
    return tick


def archived_dependency(schedule: Schedule) -> Journey | Environment | Case | None:
    """The archived journey, environment or case ``schedule`` runs, if any (it cannot run)."""
    for used in (schedule.journey, schedule.environment, schedule.case):
        if used is not None and used.archived:
            return used
    return None


def archived_reason(used: Journey | Environment | Case) -> str:
    kind = type(used).__name__.lower()
    return f"Paused: its {kind} {used.name} was archived. Restore it, then resume."[:300]


def _previous_unfinished(schedule: Schedule) -> bool:
    last = schedule.ticks.order_by("-due_at").first()
    if last is None or last.outcome != TickOutcome.PENDING or last.refused:
        return False
    if last.run_id is not None:
        return Run.objects.filter(pk=last.run_id).exclude(status__in=TERMINAL_STATUSES).exists()
    if last.batch_id is None:
        return False
    batch = RunBatch.objects.filter(pk=last.batch_id).first()
    return batch is not None and batch_summary(batch=batch).status in (
        RunStatus.QUEUED,
        RunStatus.RUNNING,
    )


def _tick_one(schedule_id: UUID, now: datetime) -> str:
    """Claim one due schedule and dispatch its tick.

    Returns "dispatched", "skipped", "paused" (it runs something archived) or "" (not due).
    """
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "journey", "environment", "case", "version")
            .filter(pk=schedule_id, paused=False, next_due_at__lte=now)
            .first()
        )
        if schedule is None or schedule.next_due_at is None:
            return ""  # another tick task holds it, or it is no longer due
        used = archived_dependency(schedule)
        if used is not None:  # archived by a path that did not pause it: pause it now
            schedule.paused, schedule.paused_reason = True, archived_reason(used)
            schedule.save(update_fields=["paused", "paused_reason", "updated_at"])
            return "paused"
        due_at, missed, following = timing_of(schedule).catch_up(schedule.next_due_at, now)
        schedule.next_due_at = following
        schedule.skipped_ticks += missed
        outcome = "dispatched"
        if _previous_unfinished(schedule):
            schedule.skipped_ticks += 1
            outcome = "skipped"
        else:
            _dispatch(schedule, due_at, now)
            schedule.last_tick_at = due_at
        schedule.save(update_fields=["next_due_at", "skipped_ticks", "last_tick_at", "updated_at"])
        return outcome


def schedules_dispatch_due(now: datetime | None = None) -> tuple[int, int]:
    """Dispatch every due, unpaused schedule once; return (dispatched, skipped)."""
    now = now or timezone.now()
    due = list(
        Schedule.objects.filter(paused=False, next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("pk", flat=True)[:DISPATCH_BATCH]
    )
    dispatched = skipped = 0
    for schedule_id in due:
        outcome = _tick_one(schedule_id, now)
        dispatched += outcome == "dispatched"
        skipped += outcome == "skipped"
    return dispatched, skipped


def _outcome_of(tick: Tick) -> tuple[str, int | None] | None:
    """Return (outcome, duration ms) once the tick's run or batch has ended, else None."""
    if tick.refused:
        return TickOutcome.FAILED, None
    if tick.run is not None:
        run = tick.run
        if run.status not in TERMINAL_STATUSES:
            return None
        duration = None
        if run.started_at and run.finished_at:
            duration = int((run.finished_at - run.started_at).total_seconds() * 1000)
        return _status_outcome(run.status), duration
    batch = RunBatch.objects.filter(pk=tick.batch_id).first() if tick.batch_id else None
    if batch is None:
        return TickOutcome.IGNORED, None  # the batch was deleted with its journey's runs
    status = batch_summary(batch=batch).status
    if status in (RunStatus.QUEUED, RunStatus.RUNNING):
        return None
    return _status_outcome(status), None


def _status_outcome(status: str) -> str:
    if status == RunStatus.PASSED:
        return TickOutcome.PASSED
    if status == RunStatus.CANCELLED:
        return TickOutcome.IGNORED
    return TickOutcome.FAILED


def _remember(schedule: Schedule, tick: Tick) -> None:
    """Add a settled tick to the schedule's recent results (a cancelled run is not a result)."""
    if tick.outcome == TickOutcome.IGNORED:
        return
    entry = {"at": tick.due_at.isoformat(), "outcome": str(tick.outcome), "ms": tick.duration_ms}
    schedule.recent = [*schedule.recent, entry][-RECENT_RESULTS:]


def ticks_prune(now: datetime | None = None) -> int:
    """Delete up to ``PRUNE_BATCH`` settled ticks older than the retention; return how many.

    Retention: ``REQFLO_SCHEDULE_TICKS_KEEP_DAYS`` after the due time (default 30). The runs
    stay in the run history; alert deliveries keep their log (their ``tick`` becomes None).
    Each tick deletes one batch, so a backlog drains over a few ticks without a long lock.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REQFLO_SCHEDULE_TICKS_KEEP_DAYS)
    old = Tick.objects.filter(due_at__lt=cutoff, settled_at__isnull=False).order_by("due_at")
    batch = list(old.values_list("pk", flat=True)[:PRUNE_BATCH])
    if not batch:
        return 0
    deleted, _ = Tick.objects.filter(pk__in=batch).delete()
    return min(deleted, len(batch))


def _settle_schedule(schedule_id: UUID, now: datetime) -> int:
    """Settle the schedule's ended ticks in due order and move its alert state."""
    settled = 0
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=schedule_id)
            .first()
        )
        if schedule is None:
            return 0
        pending = (
            schedule.ticks.filter(settled_at__isnull=True).select_related("run").order_by("due_at")
        )
        for tick in pending:
            result = _outcome_of(tick)
            if result is None:
                break  # later ticks wait: alert state moves in due-time order
            tick.outcome, tick.duration_ms = result
            tick.settled_at = now
            tick.save(update_fields=["outcome", "duration_ms", "settled_at"])
            alerts_for_outcome(schedule, tick, now)
            _remember(schedule, tick)
            settled += 1
        if settled:
            schedule.save(
                update_fields=[
                    "alert_state",
                    "consecutive_failures",
                    "failing_since",
                    "recent",
                    "updated_at",
                ]
            )
    return settled


def ticks_settle(now: datetime | None = None) -> int:
    """Settle every tick whose run (or batch) has ended; return how many were settled."""
    now = now or timezone.now()
    schedule_ids = (
        Tick.objects.filter(settled_at__isnull=True)
        .order_by()
        .values_list("schedule_id", flat=True)
        .distinct()
    )
    return sum(_settle_schedule(schedule_id, now) for schedule_id in list(schedule_ids))


def schedules_tick(now: datetime | None = None) -> TickReport:
    """One tick: dispatch what is due, settle what has ended, publish alerts, prune old ticks.

    Nothing here waits on a receiver: alerts are only published (``alerts_enqueue``).
    """
    now = now or timezone.now()
    dispatched, skipped = schedules_dispatch_due(now)
    settled = ticks_settle(now)
    alerts = alerts_enqueue(now)
    pruned = ticks_prune(now)
    if dispatched or skipped or settled or alerts or pruned:
        logger.info(
            "Schedules tick: %d dispatched, %d skipped, %d settled, %d alerts published, "
            "%d old ticks deleted",
            dispatched,
            skipped,
            settled,
            alerts,
            pruned,
        )
    return TickReport(
        dispatched=dispatched, skipped=skipped, settled=settled, alerts=alerts, pruned=pruned
    )
