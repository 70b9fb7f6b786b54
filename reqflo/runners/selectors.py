"""Reads of Admin → Runners: live workers, a workspace's queue, its settings' change log."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.runners.heartbeats import fresh_within
from reqflo.runners.models import (
    RunAttempt,
    RunnerConfigChange,
    SelfHostedRunner,
    WorkerHeartbeat,
)
from reqflo.runs.history import status_q
from reqflo.runs.hooks import AttemptRecord
from reqflo.runs.models import Run, RunnerKind, RunStatus

QUEUE_ROWS = 50
CHANGE_ROWS = 20
# A worker that stopped within this window is named when its queue has no worker left.
_RECENTLY = timedelta(hours=1)


def live_workers() -> list[WorkerHeartbeat]:
    """Return the workers whose heartbeat is fresh and that did not stop, by hostname.

    Freshness is judged by the database clock, the one that stamped the heartbeats.
    """
    since = Now() - fresh_within()
    return list(WorkerHeartbeat.objects.filter(stopped_at__isnull=True, last_seen_at__gte=since))


def recently_stopped_workers() -> list[WorkerHeartbeat]:
    """Return workers that stopped, or went silent, within the last hour; latest first."""
    rows = WorkerHeartbeat.objects.filter(last_seen_at__gte=Now() - _RECENTLY).exclude(
        stopped_at__isnull=True, last_seen_at__gte=Now() - fresh_within()
    )
    return sorted(rows, key=lambda w: w.stopped_at or w.last_seen_at, reverse=True)


# A self-hosted runner process as a lease holder: ``runner:<runner id>:<boot id>``, and on an
# attempt record a space and the runner's name when it claimed (``reqflo.runners.protocol``).
SELF_HOSTED_HOLDER = re.compile(
    r"^runner:(?P<runner>[0-9a-fA-F-]{32,36}):(?P<boot>[A-Za-z0-9-]{1,64})(?: (?P<name>.+))?$"
)
BOOT_SHOWN = 8


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a run, as pages name it.

    A self-hosted runner process by its runner's ``name`` (now; the one it had when it claimed
    if the runner is gone), ``runner_id`` (its row on Admin → Runners) and the short form of its
    ``boot`` id; a cloud worker by its worker name (``runner_id`` None).
    """

    raw: str
    name: str
    runner_id: UUID | None = None
    boot: str = ""

    @property
    def is_runner(self) -> bool:
        return self.runner_id is not None


def holders_named(raws: Iterable[str]) -> dict[str, Holder]:
    """Return a ``Holder`` for each non-empty lease holder in ``raws`` (one query at most)."""
    parsed: dict[str, tuple[UUID, str, str]] = {}
    workers: dict[str, Holder] = {}
    for raw in set(filter(None, raws)):
        match = SELF_HOSTED_HOLDER.match(raw)
        try:
            runner_id = UUID(match["runner"]) if match else None
        except ValueError:
            runner_id = None
        if match and runner_id is not None:
            parsed[raw] = (runner_id, match["boot"], match["name"] or "")
        else:
            workers[raw] = Holder(raw=raw, name=raw)
    names: dict[UUID, str] = {}
    if parsed:
        ids = {runner_id for runner_id, _, _ in parsed.values()}
        names = dict(SelfHostedRunner.objects.filter(pk__in=ids).values_list("pk", "name"))
    runners = {
        raw: Holder(
            raw=raw,
            name=names.get(runner_id) or claimed_as or "a removed runner",
            runner_id=runner_id,
            boot=boot[:BOOT_SHOWN],
        )
        for raw, (runner_id, boot, claimed_as) in parsed.items()
    }
    return workers | runners


def holder_named(raw: str) -> Holder | None:
    """Return the ``Holder`` of one lease holder (None for none)."""
    return holders_named([raw]).get(raw) if raw else None


@dataclass(frozen=True)
class QueuedRun:
    """A run waiting for or held by a worker, as the queue table shows it."""

    run: Run
    journey: str
    age: timedelta
    holder: Holder | None
    # Running, but its worker stopped renewing the lease: the sweeper will re-queue it.
    lease_expired: bool


@dataclass(frozen=True)
class RunQueue:
    rows: list[QueuedRun]
    queued: int
    running: int

    @property
    def total(self) -> int:
        return self.queued + self.running


def workspace_queue(*, workspace: Workspace, limit: int = QUEUE_ROWS) -> RunQueue:
    """Return the workspace's runs queued and running, oldest first, with their counts."""
    unfinished = Run.objects.filter(
        workspace=workspace, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    )
    # A run given back part-way (running, held by nobody: `Run.waiting`) counts as queued,
    # as its row shows it.
    counts = unfinished.aggregate(
        queued=Count("pk", filter=status_q(RunStatus.QUEUED)),
        running=Count("pk", filter=status_q(RunStatus.RUNNING)),
    )
    now = timezone.now()
    runs = list(
        unfinished.select_related("journey_version__journey", "environment").order_by("created_at")[
            :limit
        ]
    )
    holders = holders_named(run.lease_holder for run in runs if run.status == RunStatus.RUNNING)
    rows = [
        QueuedRun(
            run=run,
            journey=run.journey_version.journey.name,
            age=now - run.created_at,
            holder=holders.get(run.lease_holder) if run.status == RunStatus.RUNNING else None,
            lease_expired=run.status == RunStatus.RUNNING
            and run.lease_expires_at is not None
            and run.lease_expires_at < now,
        )
        for run in runs
    ]
    return RunQueue(rows=rows, queued=counts["queued"], running=counts["running"])


def config_changes(
    *, workspace: Workspace, limit: int = CHANGE_ROWS
) -> QuerySet[RunnerConfigChange]:
    """Return the latest recorded changes of the workspace's runner settings, newest first."""
    return RunnerConfigChange.objects.filter(workspace=workspace).select_related("changed_by")[
        :limit
    ]


def run_attempts(run_id: UUID) -> list[AttemptRecord]:
    """Return the attempt records of run ``run_id`` for its page (registered as a runs hook).

    Each names its holder as pages do (``Holder``): a self-hosted runner by its name and boot.
    """
    attempts = list(RunAttempt.objects.filter(run_id=run_id).order_by("number"))
    holders = holders_named(attempt.holder for attempt in attempts)
    return [
        AttemptRecord(
            number=attempt.number,
            holder=attempt.holder,
            holder_name=holders[attempt.holder].name if attempt.holder else "",
            holder_runner_id=holders[attempt.holder].runner_id if attempt.holder else None,
            holder_boot=holders[attempt.holder].boot if attempt.holder else "",
            claimed_at=attempt.claimed_at,
            ended_at=attempt.ended_at,
            ended_why=attempt.ended_why,
            ended_label=attempt.get_ended_why_display() if attempt.ended_why else "",
            detail=attempt.detail,
        )
        for attempt in attempts
    ]


# A runner heartbeats every few seconds (idle or not) and long-polls for claims: seen within
# ONLINE it is online; within STALE, stale (a network hiccup, a paused process); else offline.
RUNNER_ONLINE = timedelta(seconds=15)
RUNNER_STALE = timedelta(seconds=60)


@dataclass(frozen=True)
class RunnerRow:
    """One self-hosted runner as Admin → Runners lists it."""

    runner: SelfHostedRunner
    status: str  # online, stale, offline, stopped, revoked, never
    runs: list[UUID]

    @property
    def load(self) -> int:
        return len(self.runs)

    @property
    def status_label(self) -> str:
        return {
            "never": "never connected",
            "stopped": "stopped",
        }.get(self.status, self.status)


def _runner_status(runner: SelfHostedRunner, now: datetime) -> str:
    if runner.revoked_at is not None:
        return "revoked"
    if runner.last_seen_at is None:
        return "never"
    if runner.stopped_at is not None:
        return "stopped"
    age = now - runner.last_seen_at
    if age <= RUNNER_ONLINE:
        return "online"
    return "stale" if age <= RUNNER_STALE else "offline"


def self_hosted_runners(*, workspace: Workspace) -> list[RunnerRow]:
    """Return the workspace's self-hosted runners with status and runs in flight (2 queries).

    Freshness is judged against the database clock, which stamped ``last_seen_at``.
    """
    runners = list(SelfHostedRunner.objects.filter(workspace=workspace))
    if not runners:
        return []
    held = Run.objects.filter(
        workspace=workspace,
        runner_kind=RunnerKind.SELF_HOSTED,
        status=RunStatus.RUNNING,
        lease_holder__startswith="runner:",
        lease_expires_at__gt=Now(),
    ).values_list("pk", "lease_holder", "created_at")
    by_runner: dict[str, list[UUID]] = {}
    for pk, holder, _ in sorted(held, key=lambda row: row[2]):
        by_runner.setdefault(holder.split(":")[1], []).append(pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        now = cursor.fetchone()[0]
    if timezone.is_naive(now):  # SQLite answers in UTC without a zone
        now = timezone.make_aware(now, UTC)
    return [
        RunnerRow(
            runner=runner,
            status=_runner_status(runner, now),
            runs=by_runner.get(str(runner.pk), []),
        )
        for runner in sorted(runners, key=lambda r: (r.revoked_at is not None, r.name))
    ]
