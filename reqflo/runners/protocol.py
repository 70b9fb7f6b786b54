"""The self-hosted runner protocol, server side: claim, heartbeat, checkpoint, complete, release.

It is the Cloud Runner's lease lifecycle (``reqflo.runners.leases``) spoken over HTTP: a claim
takes a run's lease (fencing token incremented, expiry from the database clock) and records a
``RunAttempt``; every later write names the token and is applied only while it is current and
held by the same runner process, so a runner that was paused or cut off past its lease writes
nothing. Checkpoints go through ``checkpoint_commit`` (same digest chain, same encrypted
snapshot), completion through ``run_finish``. Every write is idempotent: a retry of one that
already landed gets the same answer, so the runner retries until it is acknowledged.

A runner process is ``runner:<runner id>:<boot id>`` as a lease holder: its slots are counted
per process, and a restarted runner (a new boot id) never writes with its old process's leases;
those expire and are resumed from their checkpoints by whichever runner claims them next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Now

from reqflo.engine import Artifact, numbers
from reqflo.engine import StepResult as EngineStepResult
from reqflo.runners.labels import clean_labels, runner_matches
from reqflo.runners.leases import (
    CheckpointOutOfOrder,
    Lease,
    LeaseLost,
    checkpoint_commit,
    lease_release,
    lease_take,
    leases_renew,
    overall_status,
    run_finish,
)
from reqflo.runners.limits import (
    StepLimits,
    capped_plan,
    time_limit_before_step,
    time_limit_during_step,
)
from reqflo.runners.models import AttemptEnd, RunAttempt, RunnerConfig, SelfHostedRunner
from reqflo.runners.selfhosted import MAX_CAPACITY
from reqflo.runners.servermark import server_mark_start
from reqflo.runs.inputs import run_inputs, secret_input_values
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunnerKind, RunStatus, StepResult
from reqflo.secrets.crypto import UndecryptableValue, current_cipher
from reqflo.secrets.resolution import SecretResolutionError, secrets_resolve_for_plan

# How long one claim waits for a run at most, and how often it looks meanwhile.
MAX_CLAIM_WAIT_SECONDS = 25.0
CLAIM_POLL_SECONDS = 0.1
CLAIM_CANDIDATES = 50
CLAIM_SCAN_WITHOUT_JSONB = 5000
MAX_MESSAGE = 2000


class ProtocolError(Exception):
    """A request the protocol refuses; ``code`` is the API's error code, ``status`` its HTTP status.

    ``lease_lost`` (409): the token is not current, or another runner holds the run; the runner
    stops that run. ``checkpoint_out_of_order`` (409): the lease holds, but the checkpoint is
    not for the run's next step (``issues`` names the expected and received index).
    ``run_timed_out`` (409): a checkpoint that arrived past the run's deadline and the longest
    a step may take after it. ``invalid_request`` (400): the request itself is wrong.
    ``not_found`` (404).
    """

    def __init__(
        self, status: int, code: str, message: str, *, issues: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []


@dataclass(frozen=True)
class Presence:
    """What a runner process says about itself on every claim and heartbeat."""

    boot_id: str
    version: str = ""
    hostname: str = ""
    capacity: int | None = None
    labels: tuple[str, ...] = ()

    def holder(self, runner: SelfHostedRunner) -> str:
        return f"{runner.holder_prefix}{self.boot_id}"


# How many replaced boot ids a runner remembers (to refuse their stale processes).
RETIRED_BOOTS_KEPT = 20


def _stale(runner: SelfHostedRunner, boot_id: str) -> ProtocolError:
    return ProtocolError(
        409,
        "stale_boot",
        f"This runner process (boot {boot_id[:12]}) was replaced by a newer process of runner "
        f"{runner.name} (boot {runner.boot_id[:12]}); it must stop.",
    )


def require_current_boot(runner: SelfHostedRunner, boot_id: str) -> None:
    """Raise ``ProtocolError`` 409 ``stale_boot`` for a process this runner has replaced."""
    if boot_id in (runner.retired_boot_ids or []):
        raise _stale(runner, boot_id)


def runner_seen(runner: SelfHostedRunner, presence: Presence, *, stopped: bool = False) -> None:
    """Record the runner's presence (database clock); a new boot id is its last restart.

    ``stopped``: the process said it is stopping (a heartbeat's ``stopping``). That sticks for
    the rest of the process: a claim it sent before it knew (still in flight, or arriving late)
    never clears it, so that claim takes nothing; only a new process (boot id) clears it.
    Raises ``ProtocolError`` 409 ``stale_boot`` for a process the runner's restart replaced.
    """
    server_mark_start()
    require_current_boot(runner, presence.boot_id)
    fields: dict[str, Any] = {
        "last_seen_at": Now(),
        "version": presence.version[:40],
        "hostname": presence.hostname[:255],
        "started_capacity": presence.capacity,
        "started_labels": list(presence.labels),
    }
    if stopped:
        fields["stopped_at"] = Now()
    if presence.boot_id != runner.boot_id:
        # A new process: its last restart. The leases an earlier process held are left to
        # expire (not ended here); the earlier process is refused from its next call.
        retired = [*(runner.retired_boot_ids or []), runner.boot_id] if runner.boot_id else []
        fields |= {
            "boot_id": presence.boot_id,
            "booted_at": Now(),
            "retired_boot_ids": retired[-RETIRED_BOOTS_KEPT:],
        }
        if not stopped:
            fields["stopped_at"] = None
    if presence.boot_id == runner.boot_id and not stopped:
        # Never clear a stop this very process announced (a late claim of it must not).
        SelfHostedRunner.objects.filter(pk=runner.pk, boot_id=presence.boot_id).update(**fields)
    else:
        SelfHostedRunner.objects.filter(pk=runner.pk).update(**fields)
    for name, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(runner, name, value)
    runner.boot_id = presence.boot_id


def clean_presence(
    *, boot_id: Any, version: Any = "", hostname: Any = "", capacity: Any = None, labels: Any = None
) -> Presence:
    """Return the presence a runner sent, or raise ``ProtocolError`` naming the bad field."""
    boot = str(boot_id or "").strip()
    if not boot or len(boot) > 64 or not boot.replace("-", "").isalnum():
        raise ProtocolError(
            400, "invalid_request", "boot_id: one id per runner process (letters, digits, '-')."
        )
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)):
        raise ProtocolError(400, "invalid_request", "capacity: a whole number of runs.")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise ProtocolError(
            400, "invalid_request", f"capacity: 1 to {MAX_CAPACITY} runs at once (got {capacity})."
        )
    try:
        cleaned = clean_labels(labels)
    except Exception as exc:  # ValidationError: its message names the label
        raise ProtocolError(
            400, "invalid_request", " ".join(getattr(exc, "messages", []))
        ) from None
    return Presence(
        boot_id=boot,
        version=str(version or "")[:40],
        hostname=str(hostname or "")[:255],
        capacity=capacity,
        labels=tuple(cleaned),
    )


def _held_now(runner: SelfHostedRunner, holder: str) -> int:
    return Run.objects.filter(
        workspace_id=runner.workspace_id,
        status=RunStatus.RUNNING,
        lease_holder=holder,
        lease_expires_at__gt=Now(),
    ).count()


class NoClaim(Exception):
    """This runner process may not claim now: answer ``error`` (None: an empty answer)."""

    def __init__(self, error: ProtocolError | None = None) -> None:
        super().__init__(error.message if error else "no claim")
        self.error = error


def require_claimant(runner: SelfHostedRunner, presence: Presence, *, lock: bool) -> None:
    """Raise ``NoClaim`` unless this runner process may claim a run now.

    Read from its row, not from the ``runner`` authenticated when the request arrived: a claim
    waits (a long-poll) while an owner revokes the runner or rotates its token, a newer process
    of the runner replaces this one, or this process says it is stopping. Each of those, once
    committed, refuses the claim (401 ``token_revoked`` / ``token_unknown``, 409 ``stale_boot``)
    or answers it empty (stopping, or every slot taken). With ``lock`` (inside the claim's
    transaction) the row is locked until the claim commits, so a revocation or rotation, which
    locks the row and then releases the runner's runs, either sees the claimed run and
    releases it too, or commits first and this claim takes nothing: a run released by one is
    never re-taken by this runner's claim in flight.
    """
    rows = SelfHostedRunner.objects.filter(pk=runner.pk)
    if lock:
        rows = rows.select_for_update(no_key=True)
    row = rows.only(
        "name", "key_hash", "revoked_at", "stopped_at", "boot_id", "retired_boot_ids"
    ).first()
    if row is None or row.revoked_at is not None:
        raise NoClaim(ProtocolError(401, "token_revoked", f"The runner {runner.name} was revoked."))
    if row.key_hash != runner.key_hash:
        raise NoClaim(
            ProtocolError(
                401,
                "token_unknown",
                "This runner token is not known (it may have been replaced by a rotation).",
            )
        )
    if row.boot_id != presence.boot_id:
        raise NoClaim(_stale(row, presence.boot_id))
    if row.stopped_at is not None:
        raise NoClaim()
    if lock and _held_now(runner, presence.holder(runner)) >= runner.slots:
        raise NoClaim()


def _candidates(runner: SelfHostedRunner, holder: str, *, settle: bool) -> list[UUID]:
    """Runs this process may claim, oldest first: queued, released, or (``settle``) expired.

    Never a run this very process holds: it is asking, so it is alive, and it renews that
    lease itself (after a cut-off, its claim may arrive before its heartbeat).
    """
    expired = Q(status=RunStatus.RUNNING, lease_expires_at__lt=Now())
    if not settle:
        expired &= Q(lease_holder="")  # released or swept: nobody's lease to judge
    claimable = Q(status=RunStatus.QUEUED) | expired
    labels = runner.all_labels
    runs = (
        Run.objects.filter(workspace_id=runner.workspace_id, runner_kind=RunnerKind.SELF_HOSTED)
        .filter(claimable)
        .exclude(lease_holder=holder)
    )
    if connection.vendor == "postgresql":
        # In SQL, before the limit: runs for other labels must not hide this runner's.
        runs = runs.filter(runner_labels__contained_by=labels)
        scan = CLAIM_CANDIDATES
    else:
        scan = CLAIM_SCAN_WITHOUT_JSONB  # SQLite (the embedded default): filtered below
    rows = runs.order_by("created_at").values_list("pk", "runner_labels")[:scan]
    return [pk for pk, selector in rows if runner_matches(selector or [], labels)][
        :CLAIM_CANDIDATES
    ]


def _try_claim(
    runner: SelfHostedRunner, presence: Presence, *, settle: bool = True
) -> dict[str, Any] | None:
    holder = presence.holder(runner)
    if _held_now(runner, holder) >= runner.slots:
        return None
    for run_id in _candidates(runner, holder, settle=settle):
        lease = lease_take(
            run_id=run_id,
            holder=f"{holder} {runner.name}",
            self_hosted=True,
            guard=lambda: require_claimant(runner, presence, lock=True),
        )
        if lease is None:
            continue
        job = _job(run_id, lease)
        if job is not None:
            return job
    return None


class _LongPolls:
    """Counts the claims waiting in this process, so idle runners never take every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiting = 0

    def enter(self) -> bool:
        with self._lock:
            if self.waiting >= settings.REQFLO_RUNNER_LONG_POLLS:
                return False
            self.waiting += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.waiting -= 1


LONG_POLLS = _LongPolls()
# What a runner told to come back later waits first (it adds jitter).
RETRY_AFTER_SECONDS = 2.0


@dataclass(frozen=True)
class Claimed:
    """A claim's answer: the job, or None and how long to wait before the next claim."""

    job: dict[str, Any] | None
    retry_after: float | None = None


def runner_claim(*, runner: SelfHostedRunner, presence: Presence, wait_seconds: float) -> Claimed:
    """Claim the oldest run routed to this runner, waiting up to ``wait_seconds`` for one.

    Only while the runner holds fewer runs than its slots (its registered capacity, or the
    smaller ``--capacity`` it started with). At most ``REQFLO_RUNNER_LONG_POLLS`` claims wait at
    once in a web process; another one that finds nothing answers at once with ``retry_after``.

    Raises ``ProtocolError`` when the runner was revoked or its token rotated (401), or this
    process was replaced (409 ``stale_boot``), before or while the claim waited; a process that
    said it is stopping gets an empty answer. Either way it takes nothing
    (``require_claimant``).
    """
    deadline = time.monotonic() + max(0.0, min(wait_seconds, MAX_CLAIM_WAIT_SECONDS))
    runner_seen(runner, presence)
    started = time.monotonic()
    try:
        require_claimant(runner, presence, lock=False)
        job = _try_claim(runner, presence)
        if job is not None or time.monotonic() >= deadline:
            return _answered(job, started)
        if not LONG_POLLS.enter():
            return Claimed(None, retry_after=RETRY_AFTER_SECONDS)
        try:
            while True:
                time.sleep(CLAIM_POLL_SECONDS)
                # Revoked, rotated, replaced or stopping while it waits: it takes nothing.
                require_claimant(runner, presence, lock=False)
                # Only queued or released runs while waiting: an expired lease is judged by a
                # claim that just arrived (proof the server takes requests: during a graceful
                # shutdown a waiting claim runs on, while the holder's heartbeats are refused)
                # or the sweeper.
                job = _try_claim(runner, presence, settle=False)
                if job is not None or time.monotonic() >= deadline:
                    return _answered(job, started)
        finally:
            LONG_POLLS.leave()
    except NoClaim as refused:
        if refused.error is not None:
            raise refused.error from None
        return Claimed(None)


def _answered(job: dict[str, Any] | None, started: float) -> Claimed:
    """Stamp the job with how long the claim waited, and its lease's time left, by the server.

    The runner adds both to when it sent the claim: the earliest its lease may expire on its
    own clock, however late the answer reaches it (a runner paused mid-poll starts nothing).
    """
    if job is not None:
        # Waited first, time left after: their sum is never later than the true expiry.
        job["waited_seconds"] = int((time.monotonic() - started) * 1000) / 1000
        lease_left, running_for = _clock(UUID(job["run_id"]))
        job["lease"]["remaining_seconds"] = lease_left
        deadline = job["deadline"]
        deadline["remaining_seconds"] = max(0.0, deadline["run_timeout_seconds"] - running_for)
    return Claimed(job)


def _clock(run_id: UUID) -> tuple[float, float]:
    """Return the seconds left on the run's lease (0 once expired) and the seconds since it
    started, both by the database clock."""
    row = (
        Run.objects.filter(pk=run_id)
        .annotate(
            left=ExpressionWrapper(F("lease_expires_at") - Now(), DurationField()),
            running=ExpressionWrapper(Now() - F("started_at"), DurationField()),
        )
        .values_list("left", "running")
        .first()
    )
    left, running = row if row is not None else (None, None)
    return (
        max(0.0, left.total_seconds()) if left is not None else 0.0,
        max(0.0, running.total_seconds()) if running is not None else 0.0,
    )


def _past_deadline(run_id: UUID, limit_seconds: float) -> bool:
    """Whether the run started more than ``limit_seconds`` ago, by the database clock."""
    return Run.objects.filter(
        pk=run_id, started_at__lt=Now() - timedelta(seconds=limit_seconds)
    ).exists()


def _job(run_id: UUID, lease: Lease) -> dict[str, Any] | None:
    """Return everything the runner needs to run (or resume) the run; None if it ended here.

    The secrets and secret inputs travel in this answer only (the runner keeps them in memory
    and masks them everywhere); a run whose secrets cannot be resolved, or whose sealed inputs
    or checkpoint no longer decrypt, ends ``error`` here saying why, as on the Cloud Runner.
    """
    run = Run.objects.select_related("artifact", "environment", "workspace").get(pk=run_id)
    if run.cancel_requested_at is not None:
        # Cancelled while its last runner was gone: it ends here, nothing more is sent.
        run_finish(
            lease,
            status=RunStatus.CANCELLED,
            message=_cancelled_message(run.pk, run.next_step, run.step_count),
        )
        return None
    config = RunnerConfig.objects.get(workspace_id=run.workspace_id)
    if _past_deadline(run.pk, config.run_timeout_seconds):
        # Resumed past its time limit (its last runner was gone): it ends here, as the Cloud
        # Runner ends it before the step it would have started.
        run_finish(
            lease,
            status=RunStatus.ERROR,
            message=time_limit_before_step(
                config.run_timeout_seconds, run.next_step, run.step_count
            ),
            why=AttemptEnd.TIMEOUT,
        )
        return None
    artifact = Artifact.from_json(run.artifact.plan)
    try:
        resolved = secrets_resolve_for_plan(
            workspace=run.workspace,
            plan=artifact.plan,
            environment=run.environment.name,
            run_id=str(run.pk),
        )
    except SecretResolutionError as exc:
        run_finish(lease, status=RunStatus.ERROR, message=str(exc))
        return None
    rows = list(StepResult.objects.filter(run=run).order_by("index"))
    try:
        inputs = run_inputs(run)
        secret_inputs = secret_input_values(run)
        snapshot = current_cipher().decrypt(bytes(rows[-1].checkpoint)) if rows else None
    except UndecryptableValue:
        run_finish(
            lease,
            status=RunStatus.ERROR,
            message="The run cannot continue: its sealed inputs or checkpoint do not decrypt "
            "under the current store key (was the key rotated while it ran?). Start it again.",
        )
        return None
    limits = StepLimits.of(config)
    expires_at, started_at = Run.objects.values_list("lease_expires_at", "started_at").get(
        pk=run.pk
    )
    return {
        "run_id": str(run.pk),
        "lease": {
            "token": lease.token,
            "attempt": lease.attempt,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "seconds": settings.REQFLO_RUN_LEASE_SECONDS,
            "heartbeat_seconds": settings.REQFLO_RUN_HEARTBEAT_SECONDS,
        },
        # The run's time limit: its start plus the workspace's run timeout, by the database
        # clock (``remaining_seconds`` is stamped when the answer is made, see ``_answered``).
        "deadline": {
            "run_timeout_seconds": config.run_timeout_seconds,
            "expires_at": (started_at + timedelta(seconds=config.run_timeout_seconds)).isoformat()
            if started_at
            else None,
            "remaining_seconds": float(config.run_timeout_seconds),
        },
        "plan": capped_plan(artifact.plan, limits),
        "step_count": run.step_count,
        "next_step": run.next_step,
        "inputs": inputs,
        "environment": {"name": run.environment.name, "values": run.environment.as_mapping()},
        "secrets": dict(resolved.values),
        "redact": sorted(resolved.redact | secret_inputs),
        "checkpoint": None
        if snapshot is None
        else {"snapshot": snapshot, "results": [row.evidence for row in rows]},
        "options": {"default_timeout_ms": limits.timeout_ms},
        "egress_allow_hosts": list(config.egress_allow_hosts),
    }


def runner_heartbeat(
    *, runner: SelfHostedRunner, presence: Presence, leases: list[Lease], stopping: bool = False
) -> list[dict[str, Any]]:
    """Renew every lease the process holds; answer each ``renewed``, ``cancelled``, ``timeout``
    (past the workspace's run timeout: stop it and complete it ``timeout``) or ``lost``."""
    runner_seen(runner, presence, stopped=stopping)
    renewed = leases_renew(leases, holder=presence.holder(runner))
    answers = []
    for lease, state in zip(leases, renewed, strict=True):
        verdict = "lost"
        if state.held:
            verdict = "renewed"
            if state.timed_out:
                verdict = "timeout"
            if state.cancel_requested:
                verdict = "cancelled"
        answers.append({"run_id": str(lease.run_id), "state": verdict})
    return answers


def _run_of(runner: SelfHostedRunner, run_id: UUID) -> Run:
    run = (
        Run.objects.filter(
            pk=run_id, workspace_id=runner.workspace_id, runner_kind=RunnerKind.SELF_HOSTED
        )
        .only("pk", "status", "lease_holder", "cancel_requested_at", "step_count", "next_step")
        .first()
    )
    if run is None:
        raise ProtocolError(404, "not_found", f"No self-hosted run {run_id} in this workspace.")
    return run


def _lost(run_id: UUID, token: int) -> ProtocolError:
    return ProtocolError(
        409,
        "lease_lost",
        f"Run {run_id}: lease token {token} is no longer current; stop working on it.",
    )


def _process(runner: SelfHostedRunner, boot_id: str) -> str:
    """Return the lease holder of the runner process ``boot_id``; refuse a replaced process."""
    require_current_boot(runner, boot_id)
    return Presence(boot_id=boot_id).holder(runner)


def _require_holder(run: Run, holder: str, token: int) -> None:
    # The very process that claimed it: not another boot of the same runner.
    if run.status != RunStatus.RUNNING or run.lease_holder != holder:
        raise _lost(run.pk, token)


def _evidence(data: Any, where: str) -> dict[str, Any]:
    """Return step evidence in the engine's own shape, or raise ``ProtocolError``."""
    try:
        result = EngineStepResult.from_dict(data)
    except Exception:  # any shape the engine cannot read back: the runner's fault
        raise ProtocolError(
            400, "invalid_request", f"{where}: not a step result of this Reqflo version."
        ) from None
    evidence: dict[str, Any] = result.to_dict()
    return evidence


def runner_checkpoint(
    *,
    runner: SelfHostedRunner,
    run_id: UUID,
    lease: Lease,
    boot_id: str,
    index: int,
    evidence: Any,
    snapshot: str,
    amended: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Store step ``index``'s result and the run's progress under the lease; idempotent.

    Answers ``{"stored": True, "stop": None | "cancelled" | "timeout"}`` (``timeout``: the run
    is past its deadline, so the runner starts no further step and completes it ``timeout``).
    ``ProtocolError`` 409 ``lease_lost`` for a stale token or another process's lease, 409
    ``checkpoint_out_of_order`` for a step other than the run's next one under a current lease,
    409 ``run_timed_out`` for a step that arrives later than the deadline plus the longest a
    step may take (a runner that did not stop at the deadline: nothing stored), 409
    ``stale_boot`` from a replaced process (nothing stored).
    """
    holder = _process(runner, boot_id)
    run = _run_of(runner, run_id)
    replay = StepResult.objects.filter(run_id=run_id, index=index, lease_token=lease.token)
    config = RunnerConfig.objects.get(workspace_id=runner.workspace_id)
    if not replay.exists():
        _require_holder(run, holder, lease.token)
        result = _evidence(evidence, "evidence")
        if result.get("index") != index:
            raise ProtocolError(400, "invalid_request", "evidence.index: not the step sent.")
        earlier = {
            int(key): _evidence(value, f"amended.{key}") for key, value in (amended or {}).items()
        }
        if any(not 0 <= key < index for key in earlier):
            raise ProtocolError(400, "invalid_request", "amended: only earlier steps.")
        try:
            state = numbers.loads(snapshot)
        except ValueError:
            raise ProtocolError(400, "invalid_request", "snapshot: not JSON.") from None
        allowance = StepLimits.of(config).longest_step_seconds() + TIME_LIMIT_GRACE_SECONDS
        if _past_deadline(run_id, config.run_timeout_seconds + allowance):
            raise ProtocolError(
                409,
                "run_timed_out",
                f"Run {run_id} passed its time limit ({config.run_timeout_seconds} s) longer "
                f"ago than a step may take; step {index + 1} was not stored. Complete the run "
                "as timeout.",
            )
        try:
            checkpoint_commit(
                lease,
                index=index,
                step_id=str(result.get("step_id", "")),
                evidence=result,
                snapshot=state,
                amended=earlier,
                holder=holder,
            )
        except CheckpointOutOfOrder as exc:
            raise _out_of_order(exc) from None
        except LeaseLost:
            raise _lost(run_id, lease.token) from None
    return {"stored": True, "stop": _stop_verdict(run_id, config.run_timeout_seconds)}


# A step that started before the deadline may take the longest a step may take, and this more.
TIME_LIMIT_GRACE_SECONDS = 30


def _stop_verdict(run_id: UUID, limit_seconds: int) -> str | None:
    """``cancelled`` once someone cancelled the run, else ``timeout`` past its deadline."""
    if Run.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists():
        return "cancelled"
    return "timeout" if _past_deadline(run_id, limit_seconds) else None


def _out_of_order(exc: CheckpointOutOfOrder) -> ProtocolError:
    return ProtocolError(
        409,
        "checkpoint_out_of_order",
        str(exc),
        issues=[
            {
                "path": "index",
                "code": "checkpoint_out_of_order",
                "message": f"expected step index {exc.expected}, received {exc.received}",
                "expected": exc.expected,
                "received": exc.received,
            }
        ],
    )


def _already_ended(run_id: UUID, lease: Lease) -> bool:
    return RunAttempt.objects.filter(
        run_id=run_id, number=lease.attempt, lease_token=lease.token, ended_at__isnull=False
    ).exists()


def _cancelled_message(run_id: UUID, stored: int, step_count: int) -> str:
    canceller = Run.objects.select_related("cancelled_by").get(pk=run_id).cancelled_by
    who = (canceller.email or canceller.get_username()) if canceller else "someone"
    step = stored + 1
    if step > step_count:
        return f"Cancelled by {who}; every step had run."
    return f"Cancelled by {who} before step {step} of {step_count}; the steps before it are kept."


def runner_complete(
    *,
    runner: SelfHostedRunner,
    run_id: UUID,
    lease: Lease,
    boot_id: str,
    outcome: str,
    message: str = "",
    during_step: bool = False,
) -> str:
    """End the run under the lease and return its status; idempotent.

    ``outcome``: ``finished`` (every step is stored; the status comes from the stored
    results, not from the runner), ``cancelled`` (only after a cancel was asked), ``error``
    (the runner could not run it; ``message`` says why, already masked by the runner),
    ``timeout`` (the run reached its deadline: before the next step, or ``during_step``
    between the retries of the step after the stored ones, which was not stored).
    """
    holder = _process(runner, boot_id)
    run = _run_of(runner, run_id)
    if run.status in TERMINAL_STATUSES and _already_ended(run_id, lease):
        return str(run.status)
    _require_holder(run, holder, lease.token)
    statuses = list(
        StepResult.objects.filter(run_id=run_id).order_by("index").values_list("status", flat=True)
    )
    why = None
    if outcome == "finished":
        if len(statuses) < run.step_count:
            raise ProtocolError(
                409,
                "steps_missing",
                f"Run {run_id} has {len(statuses)} of {run.step_count} step results stored; "
                "send the missing checkpoints first.",
            )
        status, text = overall_status(statuses), ""
    elif outcome == "cancelled":
        if run.cancel_requested_at is None:
            raise ProtocolError(400, "invalid_request", "outcome: nobody cancelled this run.")
        status = RunStatus.CANCELLED
        text = _cancelled_message(run_id, len(statuses), run.step_count)
    elif outcome == "error":
        status, text = RunStatus.ERROR, message.strip()[:MAX_MESSAGE] or "The runner failed."
    elif outcome == "timeout":
        limit = RunnerConfig.objects.get(workspace_id=runner.workspace_id).run_timeout_seconds
        status, why = RunStatus.ERROR, AttemptEnd.TIMEOUT
        # The Cloud Runner's words for the same stop (``reqflo.runners.limits``).
        text = (
            time_limit_during_step(limit, len(statuses), run.step_count, who="self-hosted runner")
            if during_step
            else time_limit_before_step(limit, len(statuses), run.step_count)
        )
    else:
        raise ProtocolError(
            400, "invalid_request", "outcome: one of finished, cancelled, error, timeout."
        )
    try:
        run_finish(lease, status=status, message=text, why=why, holder=holder)
    except LeaseLost:
        raise _lost(run_id, lease.token) from None
    return str(status)


def runner_release(
    *, runner: SelfHostedRunner, run_id: UUID, lease: Lease, boot_id: str, detail: str = ""
) -> bool:
    """Give the run back for another runner to claim now (a stopping runner); idempotent.

    Returns False when the lease was no longer this process's (nothing to release).
    """
    holder = _process(runner, boot_id)
    run = _run_of(runner, run_id)
    if run.status != RunStatus.RUNNING or run.lease_holder != holder:
        return False
    return lease_release(
        lease,
        why=AttemptEnd.RELEASED,
        detail=(detail.strip() or f"Released by the stopping runner {runner.name}.")[:MAX_MESSAGE],
        holder=holder,
    )
