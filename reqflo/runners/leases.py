"""The run lifecycle, in one module: create, claim, checkpoint, finish, restart and cancel.

Every run row comes from ``run_new`` (dispatch, batch children and the restart retry policy);
every state change after that is here too. Dispatch itself (the Run check, idempotency keys,
the nudge) is ``reqflo.runners.services``, which re-exports the cancel functions.

Leases with fencing tokens decide who may write a run's progress, by the database: every claim
increments ``Run.lease_token`` and sets the expiry from the database clock, so a worker's own
clock never matters. Every later write (heartbeat, step checkpoint, finish) names the token it
holds and is applied under a row lock only while that token is still current; a worker that was
paused or presumed dead and wakes up later gets ``LeaseLost`` and writes nothing.

Every claim is also recorded as a ``RunAttempt`` (who, when, and why it ended). Only attempts
whose worker was lost count against the workspace's ``max_attempts``; an attempt ended by an
infrastructure fault (the database stayed unreachable) or released by a stopping worker does
not, so a flaky network or a redeploy never exhausts the cap meant for a poison step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from reqflo.engine import numbers
from reqflo.engine.digest import GENESIS, step_digest
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.config import runner_config_for
from reqflo.runners.dbretry import db_retry, lock_not_available
from reqflo.runners.models import (
    COUNTED_ENDS,
    SERVER_MARK,
    SWEEP_MARK,
    AttemptEnd,
    RetryPolicy,
    RunAttempt,
    RunnerConfig,
    SweepMark,
    WorkerHeartbeat,
)
from reqflo.runs.models import (
    TERMINAL_STATUSES,
    Run,
    RunBatch,
    RunnerKind,
    RunStatus,
    StepResult,
)
from reqflo.runs.seals import run_seal_create
from reqflo.secrets.crypto import current_cipher


class NotCancellable(Exception):
    """The run or batch has already finished; ``str(error)`` says how."""


class LeaseLost(Exception):
    """The lease token is no longer current: another worker owns the run, or it finished."""


class CheckpointOutOfOrder(Exception):
    """A checkpoint under the current lease names a step other than the run's next one.

    Not a lost lease: the writer still holds the run, but its idea of the run's progress is not
    the stored one. ``expected`` is the run's next step index, ``received`` the one sent.
    """

    def __init__(self, run_id: UUID, *, expected: int, received: int) -> None:
        super().__init__(
            f"Run {run_id}: the checkpoint is for step index {received}, but the run's next "
            f"step index is {expected} ({expected} step{'s' if expected != 1 else ''} stored); "
            "checkpoints are stored in step order."
        )
        self.run_id = run_id
        self.expected = expected
        self.received = received


class WorkerStopping(Exception):
    """The step was checkpointed and this worker is shutting down: release the run now."""


# How long a claim waits for a workspace's lock before leaving the run to a later nudge: one
# frozen transaction must never stall the workers of every workspace (docs/deployment.md).
CLAIM_LOCK_TIMEOUT = "2s"
# Backoff before a run whose attempt ended by an infrastructure fault is claimed again:
# 2 s, 4 s, 8 s ... up to a minute, by the number of such faults so far.
FAULT_BACKOFF_SECONDS = (2, 60)


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to write one run's progress, as long as ``token`` is the run's current token."""

    run_id: UUID
    token: int
    attempt: int


def _expiry(seconds: float | None = None) -> ExpressionWrapper[CombinedExpression]:
    seconds = settings.REQFLO_RUN_LEASE_SECONDS if seconds is None else seconds
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


def overall_status(statuses: list[str]) -> RunStatus:
    """Return a finished run's status from its steps' statuses, in step order.

    The first ``failed`` step makes it failed, the first ``error`` step an error; else passed.
    """
    for status in statuses:
        if status == "failed":
            return RunStatus.FAILED
        if status == "error":
            return RunStatus.ERROR
    return RunStatus.PASSED


def _attempt_end(
    run_id: UUID, number: int, why: AttemptEnd, detail: str = "", *, only_open: bool = True
) -> None:
    attempts = RunAttempt.objects.filter(run_id=run_id, number=number)
    if only_open:
        attempts = attempts.filter(ended_at__isnull=True)
    attempts.update(ended_at=Now(), ended_why=why, detail=detail[:2000])


def _chain(run: Run) -> list[UUID]:
    """Return the run and the runs it restarts (``retry_of``), newest first."""
    chain = [run.pk]
    previous = run.retry_of_id
    while previous is not None and previous not in chain:
        chain.append(previous)
        previous = Run.objects.values_list("retry_of_id", flat=True).get(pk=previous)
    return chain


@dataclass(frozen=True, slots=True)
class AttemptCounts:
    """How a run's attempts (across restarts) ended so far; ``lost`` counts against the cap."""

    total: int
    lost: int
    faults: int


def attempt_counts(run: Run) -> AttemptCounts:
    """Count the attempts of ``run`` and the runs it restarts, by how they ended.

    A claim with no attempt row (made before attempts were recorded) counts as lost.
    """
    ended = RunAttempt.objects.filter(run_id__in=_chain(run))
    not_counted = ended.exclude(ended_why__in=COUNTED_ENDS).exclude(ended_why="").count()
    faults = ended.filter(ended_why=AttemptEnd.INFRASTRUCTURE_FAULT).count()
    return AttemptCounts(total=run.attempts, lost=run.attempts - not_counted, faults=faults)


def _lease_expired(run_id: UUID) -> bool:
    return Run.objects.filter(pk=run_id, lease_expires_at__lt=Now()).exists()


# The window of a database nobody has yet seen away: before the first sweep, nothing is known
# of outages, and expired leases are settled as they always were.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SettleWindow:
    """Whether an expired lease may be settled now (``open``), and since when the database has
    been reachable without a gap (``reachable_since``, None before any sweep)."""

    open: bool
    reachable_since: datetime | None


def _sweep_gap() -> timedelta:
    """A pause between two sweeps longer than this was an outage (of the database, or beat)."""
    return timedelta(seconds=2 * settings.REQFLO_SWEEPER_INTERVAL_SECONDS + 1)


def server_gap() -> timedelta:
    """A pause of the runner server's mark longer than this was an outage of the server."""
    return timedelta(seconds=2 * settings.REQFLO_RUN_HEARTBEAT_SECONDS + 1)


def _mark(pk: int, gap: timedelta) -> None:
    with transaction.atomic():
        recent = Now() - gap
        if SweepMark.objects.filter(pk=pk, last_swept_at__gte=recent).update(last_swept_at=Now()):
            return
        if SweepMark.objects.filter(pk=pk).update(last_swept_at=Now(), reachable_since=Now()):
            return
        SweepMark.objects.get_or_create(
            pk=pk, defaults={"last_swept_at": Now(), "reachable_since": LONG_AGO}
        )


def sweep_mark() -> None:
    """Record that a sweep reached the database now; after a gap, a new window starts now.

    Called by every sweep (``reqflo.runners.sweeper``). Keep the lease longer than three sweep
    intervals (defaults: 30 s and 5 s), or an outage that runs out leases may go unnoticed.
    """
    _mark(SWEEP_MARK, _sweep_gap())


def server_mark() -> None:
    """Record that a web process serving self-hosted runners is up now (``servermark``)."""
    _mark(SERVER_MARK, server_gap())


def settle_window(*, self_hosted: bool = False) -> SettleWindow:
    """Say whether expired leases may be settled as lost workers now (DESIGN.md section 6).

    Not while the sweeper's view of the database is stale (its last sweep is older than a gap:
    the database was away, or is just back), nor within a lease of a gap's end: a worker that
    rode the outage out renews its lease once it reaches the database again, and one that gave
    up is settled after that as an infrastructure fault (``settle_interrupted``), never as a
    lost worker. Before any sweep there is no window: leases are settled as they expire.

    ``self_hosted``: the same for self-hosted leases, by the runner server's own mark
    (``server_mark``): a runner cut off by the server's outage renews once the server is back.
    """
    lease = timedelta(seconds=settings.REQFLO_RUN_LEASE_SECONDS)
    pk, gap = (SERVER_MARK, server_gap()) if self_hosted else (SWEEP_MARK, _sweep_gap())
    mark = (
        SweepMark.objects.filter(pk=pk)
        .annotate(
            fresh=ExpressionWrapper(Q(last_swept_at__gte=Now() - gap), output_field=BooleanField()),
            settled_ok=ExpressionWrapper(
                Q(reachable_since__lte=Now() - lease), output_field=BooleanField()
            ),
        )
        .values_list("fresh", "settled_ok", "reachable_since")
        .first()
    )
    if mark is None:
        return SettleWindow(True, None)
    fresh, long_enough, since = mark
    return SettleWindow(bool(fresh and long_enough), since)


def run_finish_locked(
    run: Run,
    *,
    status: RunStatus,
    message: str,
    why: AttemptEnd | None = None,
) -> None:
    """Finish a run whose row the caller holds locked; waiting runs get its slot on commit.

    The run's attempt in progress, if any, ends ``why`` (default: cancelled for a cancelled
    run, else finished).
    """
    if why is None:
        why = AttemptEnd.CANCELLED if status == RunStatus.CANCELLED else AttemptEnd.FINISHED
    if run.attempts:
        _attempt_end(run.pk, run.attempts, why, message)
    # A finished run never runs again, so its sealed secret inputs go in the same update
    # (a finished run is immutable: this is the last moment they can be dropped).
    Run.objects.filter(pk=run.pk).update(
        status=status,
        error_message=message,
        finished_at=Now(),
        lease_expires_at=None,
        sealed_inputs=None,
    )
    # Sealed as stored now, in the finishing transaction: a finished run never changes again.
    run_seal_create(run_id=run.pk)
    workspace_id = run.workspace_id
    transaction.on_commit(lambda: runs_enqueue_waiting(workspace_id=workspace_id))


# What defines a run: the fields a restart copies from the run it replaces.
RUN_DEFINITION = (
    "workspace_id",
    "journey_version_id",
    "artifact_id",
    "environment_id",
    "case_id",
    "inputs",
    "sealed_inputs",
    "runner_kind",
    "runner_labels",
    "trigger",
    "triggered_by_id",
    "step_count",
)
_RUN_EXTRAS = frozenset(
    {
        "attempts",
        "retry_of",
        "batch",
        "batch_row",
        "batch_label",
        "idempotency_key",
        "dispatch_fingerprint",
    }
)


def run_new(**fields: Any) -> Run:
    """Return a new ``queued`` run, not saved yet (the caller saves or bulk-creates it).

    ``fields`` are the ``RUN_DEFINITION`` fields (a foreign key by id or as ``workspace=`` and
    the like) and optionally ``attempts``, ``retry_of``, ``batch``, ``batch_row``,
    ``idempotency_key``, ``dispatch_fingerprint``; ``runner_kind`` defaults to the Cloud
    Runner. Raises ``TypeError`` naming any other field.
    """
    allowed = {name.removesuffix("_id") for name in RUN_DEFINITION} | _RUN_EXTRAS
    unknown = sorted(name for name in fields if name.removesuffix("_id") not in allowed)
    if unknown:
        raise TypeError(f"run_new() does not set {', '.join(unknown)}")
    fields.setdefault("runner_kind", RunnerKind.CLOUD)
    return Run(status=RunStatus.QUEUED, **fields)


def _restart(run: Run, cause: str) -> None:
    """End an interrupted run and queue a fresh copy of it that starts at the first step.

    Step results are immutable, so "restart" cannot wipe the interrupted run's progress: the old
    run keeps its evidence and ends ``error`` pointing at the new one, and the new run carries
    the attempt count so the cap still holds across the chain.
    """
    fresh = run_new(
        **{name: getattr(run, name) for name in RUN_DEFINITION},
        attempts=run.attempts,
        retry_of=run,
    )
    fresh.save(force_insert=True)
    run_finish_locked(
        run,
        status=RunStatus.ERROR,
        message=f"{cause} during attempt {run.attempts}; the run restarted from the "
        f"first step as run {fresh.pk} (retry policy: restart).",
    )
    # The fresh run is queued and not yet nudged: the admission pass that follows the finish
    # (``run_finish_locked``) nudges it when a slot is free.


def _settle_from_results(run: Run) -> None:
    statuses = list(
        StepResult.objects.filter(run_id=run.pk).order_by("index").values_list("status", flat=True)
    )
    # Every step's result was stored before the worker went: the run ends as those results
    # say; the attempt keeps how its worker ended.
    run_finish_locked(run, status=overall_status(statuses), message="", why=AttemptEnd.WORKER_LOST)


def _undelivered(run: Run) -> bool:
    return RunAttempt.objects.filter(
        run_id=run.pk, number=run.attempts, ended_at__isnull=True, delivered=False
    ).exists()


def delivery_seconds() -> float:
    """How long a self-hosted claim's lease lasts until its runner names it in a heartbeat."""
    return float(
        min(settings.REQFLO_RUN_LEASE_SECONDS, max(2, 2 * settings.REQFLO_RUN_HEARTBEAT_SECONDS))
    )


def settle_interrupted(
    run: Run, config: RunnerConfig, *, reachable_since: datetime | None = None
) -> bool:
    """Apply the retry policy to a locked run whose lease expired; return whether it may resume.

    The attempt that held the lease ends ``worker_lost`` unless its worker said otherwise
    (``lease_release``: released at a step boundary, or an infrastructure fault). A run whose
    every step is stored is finished from its stored results. A released run always resumes.
    Otherwise the retry policy applies, and a run whose lost attempts reached ``max_attempts``
    ends ``error`` instead of looping on a step that keeps killing its worker; attempts ended by
    infrastructure faults do not count (``REQFLO_RUN_MAX_INFRASTRUCTURE_FAULTS`` bounds them).
    """
    if _undelivered(run):
        # Nothing ran: the runner never took up the claim's answer (it was gone or paused).
        _attempt_end(
            run.pk,
            run.attempts,
            AttemptEnd.UNDELIVERED,
            "Its runner never took up the claim (it was gone or paused); nothing was sent.",
        )
    elif run.attempts:
        slack = timedelta(seconds=2 * settings.REQFLO_RUN_HEARTBEAT_SECONDS)
        expires = run.lease_expires_at
        if (
            reachable_since is not None
            and expires is not None
            and expires < reachable_since + slack
        ):
            # It ran out while the database was away (or before its worker could renew after):
            # nobody could renew, so its worker is not known to be lost.
            _attempt_end(
                run.pk,
                run.attempts,
                AttemptEnd.INFRASTRUCTURE_FAULT,
                "the lease ran out while the database could not be reached",
            )
        else:
            _attempt_end(
                run.pk,
                run.attempts,
                AttemptEnd.WORKER_LOST,
                "The lease expired without a heartbeat from its worker.",
            )
    if run.next_step >= run.step_count:
        _settle_from_results(run)
        return False
    last = (
        RunAttempt.objects.filter(run_id=run.pk, number=run.attempts)
        .values_list("ended_why", "detail")
        .first()
    )
    why, detail = (AttemptEnd(last[0]), last[1]) if last else (AttemptEnd.WORKER_LOST, "")
    if why in (AttemptEnd.RELEASED, AttemptEnd.UNDELIVERED):
        return True
    step = f"step {run.next_step + 1} of {run.step_count}"
    counts = attempt_counts(run)
    if why == AttemptEnd.INFRASTRUCTURE_FAULT:
        cause = f"An infrastructure fault ended attempt {run.attempts} ({detail})"
        limit = settings.REQFLO_RUN_MAX_INFRASTRUCTURE_FAULTS
        if counts.faults >= limit:
            run_finish_locked(
                run,
                status=RunStatus.ERROR,
                message=f"Gave up after {counts.faults} infrastructure faults (the database or "
                f"broker stayed unreachable; the limit is {limit}), last during {step}: "
                f"{detail}",
                why=AttemptEnd.INFRASTRUCTURE_FAULT,
            )
            return False
    else:
        cause = "The worker was lost"
    if config.retry_policy == RetryPolicy.NONE:
        run_finish_locked(
            run,
            status=RunStatus.ERROR,
            message=f"{cause} during {step}; the retry policy is none, so the run was not retried.",
            why=why,
        )
        return False
    if why == AttemptEnd.WORKER_LOST and counts.lost >= config.max_attempts:
        others = counts.total - counts.lost
        run_finish_locked(
            run,
            status=RunStatus.ERROR,
            message=(
                f"Gave up after {counts.lost} attempt{'s' if counts.lost != 1 else ''}: "
                "the worker was lost each time"
                if not others
                else f"Gave up after {counts.lost} attempt{'s' if counts.lost != 1 else ''} "
                f"whose worker was lost (the limit is "
                f"{config.max_attempts}; {others} other attempt{'s' if others != 1 else ''} "
                "ended by an infrastructure fault or a stopping worker and did not count)"
            )
            + f", last during {step}. Check the step's target and the worker's memory and "
            "time limits.",
            why=why,
        )
        return False
    if config.retry_policy == RetryPolicy.RESTART and run.next_step > 0:
        _restart(run, cause)
        return False
    return True


def _claimed_by(run_id: UUID, holder: str) -> Lease | None:
    """Return the lease a previous try of this claim committed, if its reply was lost."""
    row = (
        Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, lease_expires_at__gt=Now())
        .values_list("lease_token", "attempts")
        .first()
    )
    if row is None:
        return None
    token, attempt = row
    ours = RunAttempt.objects.filter(
        run_id=run_id, number=attempt, lease_token=token, holder=holder, ended_at__isnull=True
    ).exists()
    return Lease(run_id=run_id, token=token, attempt=attempt) if ours else None


def lock_timeout() -> None:
    """Make this transaction give up on any row lock held longer than ``CLAIM_LOCK_TIMEOUT``.

    PostgreSQL only (SQLite has no row locks); the wait then fails with "lock not available"
    (``dbretry.lock_not_available``). Call it first thing inside ``transaction.atomic``.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{CLAIM_LOCK_TIMEOUT}'")


def _claim(
    run_id: UUID, holder: str, self_hosted: bool, guard: Callable[[], None] | None = None
) -> Lease | None:
    with transaction.atomic():
        lock_timeout()
        if guard is not None:
            guard()  # first: it locks the claimant's row (see ``lease_take``)
        workspace_id = Run.objects.values_list("workspace_id", flat=True).get(pk=run_id)
        runner_config_for(workspace_id=workspace_id)  # a run made elsewhere still gets defaults
        config = RunnerConfig.objects.select_for_update().get(workspace_id=workspace_id)
        # SKIP LOCKED: a run row locked by someone else is being worked on (a checkpoint, a
        # claim) or by a frozen transaction; either way this claim must not wait on it.
        run = Run.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None or run.status in TERMINAL_STATUSES:
            return None
        if (run.runner_kind == RunnerKind.SELF_HOSTED) != self_hosted:
            return None  # a Celery worker never runs a self-hosted run, nor the reverse
        if run.status == RunStatus.RUNNING:
            window = settle_window(self_hosted=self_hosted)
            if (
                not window.open
                or not _lease_expired(run.pk)
                or not settle_interrupted(run, config, reachable_since=window.reachable_since)
            ):
                return None
        elif run.runner_kind != RunnerKind.SELF_HOSTED:
            # The concurrency limit is the Cloud Runner's; self-hosted runs are bounded by
            # the capacity of the runners that claim them (``reqflo.runners.protocol``).
            running = (
                Run.objects.filter(workspace_id=workspace_id, status=RunStatus.RUNNING)
                .exclude(pk=run.pk)
                .exclude(runner_kind=RunnerKind.SELF_HOSTED)
                .count()
            )
            if running >= config.concurrency_limit:
                # It stays queued, waiting for a nudge again: a finishing run sends it one.
                Run.objects.filter(pk=run.pk).update(nudged_at=None)
                return None
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING,
            lease_holder=holder.partition(" ")[0][:255],
            lease_token=F("lease_token") + 1,
            # A self-hosted claim is answered over a long-poll its runner may no longer read:
            # a short lease until the runner's heartbeat says it has the run (``leases_renew``).
            lease_expires_at=_expiry(delivery_seconds() if self_hosted else None),
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), Now()),
        )
        token, attempt = Run.objects.values_list("lease_token", "attempts").get(pk=run.pk)
        RunAttempt.objects.create(
            run_id=run.pk,
            number=attempt,
            lease_token=token,
            holder=holder[:255],
            claimed_at=Now(),
            delivered=not self_hosted,
        )
        return Lease(run_id=run.pk, token=token, attempt=attempt)


def lease_take(
    *,
    run_id: UUID,
    holder: str = "",
    self_hosted: bool = False,
    guard: Callable[[], None] | None = None,
) -> Lease | None:
    """Claim a queued run, or one whose lease expired; None when it is not this worker's to run.

    ``holder`` names the claiming worker: its Celery hostname, then optionally a space and more
    (the pool process), recorded on the attempt; the hostname alone goes on the run for
    Admin → Runners. The workspace's config row is locked first so that two workers admitting
    runs at once see each other's claims, which is what makes the concurrency limit hold. A
    lock held elsewhere for longer than ``CLAIM_LOCK_TIMEOUT`` (or a run row locked at all)
    returns None: the sweeper nudges the run again later. A dropped connection is retried
    (``db_retry``); a claim that committed before its reply was lost is recognised by holder.
    Only a self-hosted runner (``self_hosted``) takes a self-hosted run, and only a Celery
    worker a cloud run. ``guard`` is called first in the claim's transaction: it may lock the
    claimant's own row and re-check that it may still claim (raising to take nothing), so
    that whatever ends the claimant's right to claim commits either before the claim or after
    it (``reqflo.runners.protocol.require_claimant``).
    """

    def claim(retrying: bool) -> Lease | None:
        if retrying and holder:
            mine = _claimed_by(run_id, holder)
            if mine is not None:
                return mine
        return _claim(run_id, holder, self_hosted, guard)

    try:
        return db_retry(claim, what=f"claiming run {run_id}")
    except OperationalError as exc:
        if lock_not_available(exc):
            return None
        raise


def cancel_requested(run_id: UUID) -> bool:
    """Return whether someone asked to cancel the run (checked before each request it sends)."""
    return db_retry(
        lambda _: Run.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists(),
        what=f"checking run {run_id} for a cancel",
    )


def stop_requested(lease: Lease) -> bool:
    """Return whether the run must send nothing more: cancelled, or the lease is not current.

    Checked before each request the engine sends, retries of a step included, so a worker that
    lost its lease (paused past it, say) never sends another retry of a run someone else owns.
    """

    def check(_: bool) -> bool:
        return not Run.objects.filter(
            pk=lease.run_id,
            lease_token=lease.token,
            status=RunStatus.RUNNING,
            cancel_requested_at__isnull=True,
        ).exists()

    return db_retry(check, what=f"checking the lease of run {lease.run_id}")


def lease_renew(lease: Lease) -> bool:
    """Extend the lease from the database clock; False means it was lost: stop working.

    Raises Django's ``OperationalError``/``InterfaceError`` when the database cannot be
    reached: the caller (a heartbeat) tries again on its next beat, on a new connection.
    """
    return bool(
        Run.objects.filter(
            pk=lease.run_id, lease_token=lease.token, status=RunStatus.RUNNING
        ).update(lease_expires_at=_expiry())
    )


@dataclass(frozen=True, slots=True)
class Renewed:
    """One held lease after a batched renewal: still held (and cancel asked), or lost."""

    held: bool
    cancel_requested: bool = False
    # Past the workspace's run timeout (by the database clock).
    timed_out: bool = False


def leases_renew(leases: list[Lease], *, holder: str) -> list[Renewed]:
    """Extend every lease in ``leases`` still current and held by ``holder``, in one update.

    A self-hosted runner's heartbeat: two queries whatever the number of leases. Returns, for
    each lease in order, whether it is still held, whether someone asked to cancel its run and
    whether it passed the workspace's run timeout; a lease that is no longer current (or held
    by another holder) is ``held=False``.
    """
    if not leases:
        return []
    match = Q()
    for lease in leases:
        match |= Q(pk=lease.run_id, lease_token=lease.token)
    current = Run.objects.filter(match, status=RunStatus.RUNNING, lease_holder=holder)
    current.update(lease_expires_at=_expiry())
    rows = current.values_list(
        "pk",
        "lease_token",
        "cancel_requested_at",
        "started_at",
        "workspace__runner_config__run_timeout_seconds",
    )
    # Compared here, not in SQL: SQLite (the embedded default) cannot multiply a column by an
    # interval. The run timeout is minutes long; this clock's skew from the database's is not.
    now = timezone.now()
    held = {
        (pk, token): Renewed(
            True,
            cancel is not None,
            started is not None and limit is not None and started < now - timedelta(seconds=limit),
        )
        for pk, token, cancel, started, limit in rows
    }
    if held:
        # The runner named these leases: their claims reached it (they count as attempts).
        taken = Q()
        for pk, token in held:
            taken |= Q(run_id=pk, lease_token=token)
        RunAttempt.objects.filter(taken, delivered=False).update(delivered=True)
    return [held.get((lease.run_id, lease.token), Renewed(held=False)) for lease in leases]


def _lock_current(lease: Lease, holder: str | None = None) -> Run:
    """Lock the run while ``lease`` is current; with ``holder``, only while it holds it too.

    A self-hosted runner names itself (``holder``): a run given back to the queue (released
    by a revocation or rotation of its runner) keeps its token until the next claim, so the
    holder is what refuses a write racing with that release.
    """
    draining = WorkerHeartbeat.objects.filter(
        hostname=OuterRef("lease_holder"), draining_since__isnull=False
    )
    current = Run.objects.select_for_update(of=("self",)).filter(
        pk=lease.run_id, lease_token=lease.token, status=RunStatus.RUNNING
    )
    if holder is not None:
        current = current.filter(lease_holder=holder)
    run = current.annotate(holder_draining=Exists(draining)).first()
    if run is None:
        raise LeaseLost(f"run {lease.run_id}: lease token {lease.token} is no longer current")
    return run


def lease_release(
    lease: Lease, *, why: AttemptEnd, detail: str = "", holder: str | None = None
) -> bool:
    """End this attempt ``why`` and let another worker claim the run now; False if lost.

    ``released`` (a stopping worker, at a step boundary) frees the run at once; an
    ``infrastructure_fault`` frees it after a backoff that doubles with each such fault
    (``FAULT_BACKOFF_SECONDS``). The caller publishes the nudge (``run_enqueue``) on commit, or
    leaves it to the sweeper. The write itself is retried on a dropped connection.
    ``holder``: only while this holder holds it (``_lock_current``).
    """

    def release(_: bool) -> bool:
        with transaction.atomic():
            try:
                run = _lock_current(lease, holder)
            except LeaseLost:
                return False
            _attempt_end(run.pk, lease.attempt, why, detail, only_open=False)
            delay = 0.0
            if why == AttemptEnd.INFRASTRUCTURE_FAULT:
                first, longest = FAULT_BACKOFF_SECONDS
                faults = attempt_counts(run).faults
                delay = min(first * 2 ** max(0, faults - 1), longest)
            Run.objects.filter(pk=run.pk).update(
                lease_holder="", lease_expires_at=_expiry(delay - 0.001)
            )
            return True

    return db_retry(release, what=f"releasing run {lease.run_id}")


def checkpoint_commit(
    lease: Lease,
    *,
    index: int,
    step_id: str,
    evidence: dict[str, Any],
    snapshot: dict[str, Any],
    amended: Mapping[int, dict[str, Any]] | None = None,
    holder: str | None = None,
) -> None:
    """Store one step's result and the run's progress in one transaction, if the lease holds.

    ``amended`` maps earlier step indexes to their evidence re-redacted by the engine (a secret
    captured by this step occurred in them): their rows are rewritten in the same transaction.
    The result's digest chains to the run's current head (``reqflo.engine.digest``), which
    moves to it. Raises ``LeaseLost`` (and stores nothing) for a stale token, and
    ``CheckpointOutOfOrder`` for a step other than the run's next one under a current lease. A
    dropped connection is retried with the same token (``db_retry``); a retry first checks
    whether the previous try committed. Raises ``WorkerStopping`` after the commit when the
    holding worker is shutting down and steps remain, so the caller releases the run
    (``lease_release``). ``holder``: only while this holder holds it (``_lock_current``).
    """
    # Exact numbers survive the round trip (`numbers.loads` reads them back).
    sealed = current_cipher().encrypt(numbers.dumps(snapshot, default=str))

    def commit(retrying: bool) -> bool:
        if (
            retrying
            and StepResult.objects.filter(
                run_id=lease.run_id, index=index, lease_token=lease.token
            ).exists()
        ):
            return False  # the previous try committed; its reply was lost with the connection
        with transaction.atomic():
            run = _lock_current(lease, holder)
            if index != run.next_step:
                raise CheckpointOutOfOrder(run.pk, expected=run.next_step, received=index)
            head = _rewrite_amended(run, amended) if amended else run.head_digest
            status = str(evidence.get("status", ""))
            digest = step_digest(
                head,
                run_id=str(run.pk),
                index=index,
                step_id=step_id,
                status=status,
                evidence=evidence,
            )
            StepResult.objects.create(
                run=run,
                index=index,
                step_id=step_id,
                status=status,
                evidence=evidence,
                checkpoint=sealed,
                lease_token=lease.token,
                attempt=lease.attempt,
                digest=digest,
            )
            Run.objects.filter(pk=run.pk).update(
                next_step=index + 1, lease_expires_at=_expiry(), head_digest=digest
            )
            return bool(getattr(run, "holder_draining", False)) and index + 1 < run.step_count

    if db_retry(commit, what=f"storing step {index + 1} of run {lease.run_id}"):
        raise WorkerStopping(f"run {lease.run_id}: the worker is stopping after step {index + 1}")


def _rewrite_amended(run: Run, amended: Mapping[int, dict[str, Any]]) -> str:
    """Store re-redacted evidence of earlier steps and re-chain from the first; return the head.

    The database lets a running run's step result change only its evidence and digest
    (``reqflo.runs.triggers``).
    """
    first = min(amended)
    previous = (
        StepResult.objects.filter(run=run, index=first - 1).values_list("digest", flat=True).get()
        if first
        else GENESIS
    )
    rows = StepResult.objects.filter(run=run, index__gte=first).order_by("index")
    for row in rows.only("pk", "index", "step_id", "status", "evidence"):
        evidence = amended.get(row.index, row.evidence)
        previous = step_digest(
            previous,
            run_id=str(run.pk),
            index=row.index,
            step_id=row.step_id,
            status=row.status,
            evidence=evidence,
        )
        changes = {"evidence": evidence} if row.index in amended else {}
        StepResult.objects.filter(pk=row.pk).update(digest=previous, **changes)
    return previous


def run_finish(
    lease: Lease,
    *,
    status: RunStatus,
    message: str = "",
    why: AttemptEnd | None = None,
    holder: str | None = None,
) -> None:
    """End the run with ``status`` if the lease holds; raises ``LeaseLost`` otherwise.

    ``why`` is how the attempt ended (see ``run_finish_locked``). A dropped connection is
    retried; a retry that finds the run already finished by this lease returns quietly.
    """

    def finish(retrying: bool) -> None:
        with transaction.atomic():
            try:
                run = _lock_current(lease, holder)
            except LeaseLost:
                if (
                    retrying
                    and RunAttempt.objects.filter(
                        run_id=lease.run_id,
                        number=lease.attempt,
                        lease_token=lease.token,
                        ended_at__isnull=False,
                    ).exists()
                ):
                    return  # the previous try committed
                raise
            run_finish_locked(run, status=status, message=message, why=why)

    db_retry(finish, what=f"finishing run {lease.run_id}")


# --- Cancel -------------------------------------------------------------------------------------


def _cancel_locked(run: Run, *, by: User) -> None:
    """Cancel a run whose row the caller holds locked: at once if nobody holds it, else on request.

    Nobody holds a queued run, nor a running one given back to the queue (released by a
    stopping worker or runner, or swept after its lease ran out): no worker would see the
    request until one claimed it again, perhaps never (no runner with its labels left).
    """
    Run.objects.filter(pk=run.pk, cancel_requested_at__isnull=True).update(
        cancel_requested_at=Now(), cancelled_by=by
    )
    who = by.email or by.get_username()
    if run.status == RunStatus.QUEUED:
        run_finish_locked(
            run, status=RunStatus.CANCELLED, message=f"Cancelled by {who} before it started."
        )
    elif run.status == RunStatus.RUNNING and not run.lease_holder:
        run_finish_locked(
            run,
            status=RunStatus.CANCELLED,
            message=(
                f"Cancelled by {who} while waiting to be resumed after step {run.next_step} "
                f"of {run.step_count}."
            ),
        )


def run_cancel(*, run: Run, by: User) -> Run:
    """Cancel ``run``: a queued run ends ``cancelled`` now; a running one at its next request.

    The worker holding a running run checks before every step and every retry of a step, so it
    sends nothing once the cancel has landed (a request already on the wire completes, and its
    evidence is kept, unless the cancel lands while a long answer is still being masked: the
    masking stops and that step is not kept). Raises ``NotCancellable`` for a finished run.
    """
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.status in TERMINAL_STATUSES:
            raise NotCancellable(f"The run has already finished ({locked.status}).")
        _cancel_locked(locked, by=by)
    return Run.objects.get(pk=run.pk)


def batch_cancel(*, batch: RunBatch, by: User) -> RunBatch:
    """Cancel every unfinished child of ``batch`` as ``run_cancel`` does, and mark the batch.

    Raises ``NotCancellable`` when every child has already finished.
    """
    with transaction.atomic():
        locked = RunBatch.objects.select_for_update().get(pk=batch.pk)
        children = list(
            Run.objects.select_for_update()
            .filter(batch=locked)
            .exclude(status__in=TERMINAL_STATUSES)
            .order_by("batch_row")
        )
        if not children and locked.runs.count() >= locked.row_count:
            raise NotCancellable("Every run of the batch has already finished.")
        RunBatch.objects.filter(pk=locked.pk, cancel_requested_at__isnull=True).update(
            cancel_requested_at=Now(), cancelled_by=by
        )
        for child in children:
            _cancel_locked(child, by=by)
    return RunBatch.objects.get(pk=batch.pk)
