"""Send "work on run X" to the workspace's queue, within its concurrency limit.

The broker message is only a nudge: the limit itself is enforced when a worker takes the lease
(``reqflo.runners.leases.lease_take``), so a duplicate or early message never over-admits.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Now
from kombu.exceptions import OperationalError

from reqflo.celery import app as celery_app
from reqflo.runners.config import runner_config_for
from reqflo.runners.limits import StepLimits
from reqflo.runners.models import RunnerConfig
from reqflo.runs.models import Run, RunnerKind, RunStatus

EXECUTE_RUN_TASK = "reqflo.runners.tasks.execute_run"

logger = logging.getLogger(__name__)


def task_time_limits(config: RunnerConfig) -> tuple[int, int]:
    """Return the (soft, hard) Celery time limits of one run's task under ``config``.

    A run executes in one task, so the task may last as long as the run may, plus the step
    that is running when the run timeout passes (the timeout is checked between steps): at
    most every attempt of it timing out, with the longest delays between them.
    """
    longest_step = math.ceil(StepLimits.of(config).longest_step_seconds())
    soft = config.run_timeout_seconds + longest_step + 30
    return soft, soft + 30


def run_enqueue(*, run_id: UUID, config: RunnerConfig, countdown: float | None = None) -> None:
    """Publish one nudge for the run on its region's queue; call it after the row is committed.

    ``countdown`` (seconds) delays its delivery (the sweeper's nudge for a lease about to
    expire). Raises kombu's ``OperationalError`` when the broker cannot be reached.
    """
    soft, hard = task_time_limits(config)
    celery_app.send_task(
        EXECUTE_RUN_TASK,
        args=[str(run_id)],
        queue=config.queue,
        soft_time_limit=soft,
        time_limit=hard,
        countdown=countdown,
    )


# A nudge for a lease's end lands this long after it, so the claim finds the lease expired.
LEASE_END_MARGIN_SECONDS = 0.2


def run_enqueue_at_lease_end(*, run_id: UUID) -> float | None:
    """Nudge a running run for the moment its lease ends; return the delay in seconds, or None.

    Called when a redelivered message finds the run's lease still held: the broker redelivers a
    message when the worker that had it lost its connection, most often because it died. A
    worker that died silently stops renewing, so another worker can claim the run as soon as the
    lease expires instead of at the next sweep after it. If the holder is alive after all (only
    its broker connection dropped), it has renewed by then and the nudge does nothing. The
    remaining time comes from the database clock. Raises kombu's ``OperationalError`` when the
    broker cannot be reached.
    """
    left = (
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, lease_expires_at__gt=Now())
        .annotate(
            left=ExpressionWrapper(F("lease_expires_at") - Now(), output_field=DurationField())
        )
        .values_list("left", "workspace_id")
        .first()
    )
    if left is None:
        return None
    delay = float(left[0].total_seconds()) + LEASE_END_MARGIN_SECONDS
    run_enqueue(run_id=run_id, config=runner_config_for(workspace_id=left[1]), countdown=delay)
    return delay


@dataclass(frozen=True, slots=True)
class Nudges:
    """What one admission pass did: the runs nudged, and the broker's refusal if one came."""

    nudged: list[UUID]
    broker_error: str | None = None


def runs_enqueue_waiting(*, workspace_id: UUID, renudge_after_seconds: int | None = None) -> Nudges:
    """Nudge the oldest queued runs that fit in the workspace's free slots.

    A run is nudged once: a queued run already nudged holds its slot (its message is on the way
    to a worker), so a burst of dispatches sends one message per run, not one per free slot per
    dispatch. With ``renudge_after_seconds`` (the sweeper's) a run whose nudge is older than that
    is nudged again, in case its message was lost. When the broker refuses a nudge, the nudge is
    taken back (the sweeper tries again later), the pass stops, and ``broker_error`` says why.
    """
    config = runner_config_for(workspace_id=workspace_id)
    # Self-hosted runs are never sent to Celery: their runners claim them (long-poll).
    cloud = Run.objects.filter(workspace_id=workspace_id).exclude(
        runner_kind=RunnerKind.SELF_HOSTED
    )
    queued = cloud.filter(status=RunStatus.QUEUED)
    in_flight = Q(nudged_at__isnull=False)
    if renudge_after_seconds is not None:
        in_flight &= Q(nudged_at__gte=Now() - timedelta(seconds=renudge_after_seconds))
    # Slots taken: running runs, and queued ones whose nudge is on its way (one query).
    taken = cloud.aggregate(
        n=Count("pk", filter=Q(status=RunStatus.RUNNING) | (Q(status=RunStatus.QUEUED) & in_flight))
    )["n"]
    free = max(0, config.concurrency_limit - taken)
    candidates = list(
        queued.exclude(in_flight).order_by("created_at").values_list("pk", flat=True)[:free]
    )
    nudged: list[UUID] = []
    for run_id in candidates:
        # Claim the nudge first, so two callers never both publish for one run.
        claim = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).exclude(in_flight)
        if not claim.update(nudged_at=Now()):
            continue
        try:
            run_enqueue(run_id=run_id, config=config)
        except OperationalError as exc:
            Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(nudged_at=None)
            logger.warning("Broker refused the nudge for run %s: %s", run_id, exc)
            return Nudges(nudged=nudged, broker_error=str(exc) or type(exc).__name__)
        nudged.append(run_id)
    return Nudges(nudged=nudged)
