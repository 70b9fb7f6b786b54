"""The run lifecycle, in one module: create, claim, checkpoint, finish, restart and cancel.

Every run row comes from ``run_new`` (dispatch, batch children and the restart retry policy);
every state change after that is here too. Dispatch itself (the Run check, idempotency keys,
the nudge) is ``reqflo.runners.services``, which re-exports the cancel functions.

Leases with fencing tokens decide who may write a run's progress, by the database: every claim
increments ``Run.lease_token`` and sets the expiry from the database clock, so a worker's own
clock never matters. Every later write (heartbeat, step checkpoint, finish) names the token it
holds and is applied under a row lock only while that token is still current; a worker that was
paused or presumed dead and wakes up later gets ``LeaseLost`` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Now

from reqflo.engine import numbers
from reqflo.engine.digest import GENESIS, step_digest
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import RetryPolicy, RunnerConfig
from reqflo.runs.models import (
    TERMINAL_STATUSES,
    Run,
    RunBatch,
    RunnerKind,
    RunStatus,
    StepResult,
)
from reqflo.secrets.crypto import current_cipher


class NotCancellable(Exception):
    """The run or batch has already finished; ``str(error)`` says how."""


class LeaseLost(Exception):
    """The lease token is no longer current: another worker owns the run, or it finished."""


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to write one run's progress, as long as ``token`` is the run's current token."""

    run_id: UUID
    token: int
    attempt: int


def _expiry() -> ExpressionWrapper[CombinedExpression]:
    seconds = settings.REQFLO_RUN_LEASE_SECONDS
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


def _lease_expired(run_id: UUID) -> bool:
    return Run.objects.filter(pk=run_id, lease_expires_at__lt=Now()).exists()


def run_finish_locked(run: Run, *, status: RunStatus, message: str) -> None:
    """Finish a run whose row the caller holds locked; waiting runs get its slot on commit."""
    # A finished run never runs again, so its sealed secret inputs go in the same update
    # (a finished run is immutable: this is the last moment they can be dropped).
    Run.objects.filter(pk=run.pk).update(
        status=status,
        error_message=message,
        finished_at=Now(),
        lease_expires_at=None,
        sealed_inputs=None,
    )
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
    "trigger",
    "triggered_by_id",
    "step_count",
)
_RUN_EXTRAS = frozenset(
    {"attempts", "retry_of", "batch", "batch_row", "idempotency_key", "dispatch_fingerprint"}
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


def _restart(run: Run) -> None:
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
        message=f"The worker was lost during attempt {run.attempts}; the run restarted from the "
        f"first step as run {fresh.pk} (retry policy: restart).",
    )
    # The fresh run is queued and not yet nudged: the admission pass that follows the finish
    # (``run_finish_locked``) nudges it when a slot is free.


def settle_interrupted(run: Run, config: RunnerConfig) -> bool:
    """Apply the retry policy to a locked run whose lease expired; return whether it may resume.

    Attempts count lease claims. A run that has used ``max_attempts`` claims ends ``error``
    instead of looping on a step that keeps killing its worker.
    """
    step = f"step {run.next_step + 1} of {run.step_count}"
    if config.retry_policy == RetryPolicy.NONE:
        run_finish_locked(
            run,
            status=RunStatus.ERROR,
            message=f"The worker was lost during {step}; the retry policy is none, so the run "
            "was not retried.",
        )
        return False
    if run.attempts >= config.max_attempts:
        run_finish_locked(
            run,
            status=RunStatus.ERROR,
            message=f"Gave up after {run.attempts} attempt{'s' if run.attempts != 1 else ''}: "
            "the worker was lost each time, "
            f"last during {step}. Check the step's target and the worker's memory and time limits.",
        )
        return False
    if config.retry_policy == RetryPolicy.RESTART and run.next_step > 0:
        _restart(run)
        return False
    return True


def lease_take(*, run_id: UUID, holder: str = "") -> Lease | None:
    """Claim a queued run, or one whose lease expired; None when it is not this worker's to run.

    ``holder`` names the claiming worker (its Celery hostname) for Admin → Runners. The
    workspace's config row is locked first so that two workers admitting runs at once see each
    other's claims, which is what makes the concurrency limit hold.
    """
    with transaction.atomic():
        workspace_id = Run.objects.values_list("workspace_id", flat=True).get(pk=run_id)
        runner_config_for(workspace_id=workspace_id)  # a run made elsewhere still gets defaults
        config = RunnerConfig.objects.select_for_update().get(workspace_id=workspace_id)
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status in TERMINAL_STATUSES:
            return None
        if run.status == RunStatus.RUNNING:
            if not _lease_expired(run.pk) or not settle_interrupted(run, config):
                return None
        else:
            running = (
                Run.objects.filter(workspace_id=workspace_id, status=RunStatus.RUNNING)
                .exclude(pk=run.pk)
                .count()
            )
            if running >= config.concurrency_limit:
                # It stays queued, waiting for a nudge again: a finishing run sends it one.
                Run.objects.filter(pk=run.pk).update(nudged_at=None)
                return None
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING,
            lease_holder=holder[:255],
            lease_token=F("lease_token") + 1,
            lease_expires_at=_expiry(),
            attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), Now()),
        )
        token, attempt = Run.objects.values_list("lease_token", "attempts").get(pk=run.pk)
        return Lease(run_id=run.pk, token=token, attempt=attempt)


def cancel_requested(run_id: UUID) -> bool:
    """Return whether someone asked to cancel the run (checked before each request it sends)."""
    return Run.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


def lease_renew(lease: Lease) -> bool:
    """Extend the lease from the database clock; False means it was lost: stop working."""
    return bool(
        Run.objects.filter(
            pk=lease.run_id, lease_token=lease.token, status=RunStatus.RUNNING
        ).update(lease_expires_at=_expiry())
    )


def _lock_current(lease: Lease) -> Run:
    run = (
        Run.objects.select_for_update()
        .filter(pk=lease.run_id, lease_token=lease.token, status=RunStatus.RUNNING)
        .first()
    )
    if run is None:
        raise LeaseLost(f"run {lease.run_id}: lease token {lease.token} is no longer current")
    return run


def checkpoint_commit(
    lease: Lease,
    *,
    index: int,
    step_id: str,
    evidence: dict[str, Any],
    snapshot: dict[str, Any],
    amended: Mapping[int, dict[str, Any]] | None = None,
) -> None:
    """Store one step's result and the run's progress in one transaction, if the lease holds.

    ``amended`` maps earlier step indexes to their evidence re-redacted by the engine (a secret
    captured by this step occurred in them): their rows are rewritten in the same transaction.
    The result's digest chains to the run's current head (``reqflo.engine.digest``), which
    moves to it. Raises ``LeaseLost`` (and stores nothing) for a stale token.
    """
    # Exact numbers survive the round trip (`numbers.loads` reads them back).
    sealed = current_cipher().encrypt(numbers.dumps(snapshot, default=str))
    with transaction.atomic():
        run = _lock_current(lease)
        if index != run.next_step:
            raise LeaseLost(f"run {run.pk}: step {index} is not the next step ({run.next_step})")
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


def run_finish(lease: Lease, *, status: RunStatus, message: str = "") -> None:
    """End the run with ``status`` if the lease holds; raises ``LeaseLost`` otherwise."""
    with transaction.atomic():
        run_finish_locked(_lock_current(lease), status=status, message=message)


# --- Cancel -------------------------------------------------------------------------------------


def _cancel_locked(run: Run, *, by: User) -> None:
    """Cancel a run whose row the caller holds locked: at once if queued, else on request."""
    Run.objects.filter(pk=run.pk, cancel_requested_at__isnull=True).update(
        cancel_requested_at=Now(), cancelled_by=by
    )
    if run.status == RunStatus.QUEUED:
        who = by.email or by.get_username()
        run_finish_locked(
            run, status=RunStatus.CANCELLED, message=f"Cancelled by {who} before it started."
        )


def run_cancel(*, run: Run, by: User) -> Run:
    """Cancel ``run``: a queued run ends ``cancelled`` now; a running one at its next request.

    The worker holding a running run checks before every step and every retry of a step, so it
    sends nothing once the cancel has landed (a request already on the wire completes, and its
    evidence is kept). Raises ``NotCancellable`` for a finished run.
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
