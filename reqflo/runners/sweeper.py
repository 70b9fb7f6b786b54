"""Find runs a worker lost and queue them again (Celery beat runs this every few seconds).

A lost broker message or a killed worker leaves a run ``running`` with an expired lease, or
``queued`` with no message; the sweeper is why such a run is late, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Q
from django.db.models.functions import Now

from reqflo.runners.admission import run_enqueue, runs_enqueue_waiting
from reqflo.runners.dbretry import lock_not_available
from reqflo.runners.leases import lock_timeout, settle_interrupted, settle_window, sweep_mark
from reqflo.runners.models import RunnerConfig
from reqflo.runs.models import Run, RunnerKind, RunStatus


@dataclass(slots=True)
class SweepReport:
    """What one sweep did, for logs and tests."""

    requeued: list[UUID] = field(default_factory=list)
    settled: list[UUID] = field(default_factory=list)
    nudged: list[UUID] = field(default_factory=list)


def runs_sweep() -> SweepReport:
    """Re-queue runs whose lease expired (or end them per the retry policy); nudge stale queues."""
    report = SweepReport()
    sweep_mark()
    expired = Run.objects.filter(status=RunStatus.RUNNING, lease_expires_at__lt=Now())
    # Right after an outage, leases that ran out wait a lease for their workers to renew them:
    # the database's outage for cloud runs, the runner server's for self-hosted ones.
    for self_hosted in (False, True):
        window = settle_window(self_hosted=self_hosted)
        if not window.open:
            continue
        kind = Q(runner_kind=RunnerKind.SELF_HOSTED)
        runs = expired.filter(kind if self_hosted else ~kind)
        for run_id in list(runs.values_list("pk", flat=True)[:500]):
            try:
                _settle_expired(run_id, report, window.reachable_since)
            except OperationalError as exc:
                # A row it needs is held elsewhere (a frozen transaction): the next sweep
                # retries.
                if not lock_not_available(exc):
                    raise
    # A queued run never nudged (the broker was down at dispatch), or nudged longer than a lease
    # ago, may have no message on the way; a duplicate nudge is harmless (the lease decides).
    lease = settings.REQFLO_RUN_LEASE_SECONDS
    stale_before = Now() - timedelta(seconds=lease)
    workspaces = (
        Run.objects.filter(status=RunStatus.QUEUED)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lt=stale_before))
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    for workspace_id in list(workspaces):
        nudges = runs_enqueue_waiting(workspace_id=workspace_id, renudge_after_seconds=lease)
        report.nudged.extend(nudges.nudged)
    return report


def _settle_expired(run_id: UUID, report: SweepReport, reachable_since: datetime | None) -> None:
    with transaction.atomic():
        lock_timeout()
        # SKIP LOCKED: a run a worker is committing right now is not expired for long.
        run = (
            Run.objects.select_for_update(skip_locked=True)
            .filter(pk=run_id, status=RunStatus.RUNNING, lease_expires_at__lt=Now())
            .first()
        )
        if run is None:
            return
        config = RunnerConfig.objects.get(workspace_id=run.workspace_id)
        if settle_interrupted(run, config, reachable_since=reachable_since):
            if run.runner_kind != RunnerKind.SELF_HOSTED:
                transaction.on_commit(partial(run_enqueue, run_id=run.pk, config=config))
            else:
                # Claimable by a self-hosted runner now: its lease has ended.
                Run.objects.filter(pk=run.pk).update(lease_holder="")
            report.requeued.append(run.pk)
        else:
            report.settled.append(run.pk)
