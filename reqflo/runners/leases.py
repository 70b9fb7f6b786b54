"""Leases with fencing tokens: who may write a run's progress, decided by the database.

Every claim increments ``Run.lease_token`` and sets the expiry from the database clock, so a
worker's own clock never matters. Every later write (heartbeat, step checkpoint, finish) names the
token it holds and is applied under a row lock only while that token is still current; a worker
that was paused or presumed dead and wakes up later gets ``LeaseLost`` and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Now

from reqflo.engine import numbers
from reqflo.engine.digest import step_digest
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import RetryPolicy, RunnerConfig
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunStatus, StepResult
from reqflo.secrets.crypto import current_cipher


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


def _restart(run: Run) -> None:
    """End an interrupted run and queue a fresh copy of it that starts at the first step.

    Step results are immutable, so "restart" cannot wipe the interrupted run's progress: the old
    run keeps its evidence and ends ``error`` pointing at the new one, and the new run carries
    the attempt count so the cap still holds across the chain.
    """
    fresh = Run.objects.create(
        workspace_id=run.workspace_id,
        journey_version_id=run.journey_version_id,
        artifact_id=run.artifact_id,
        environment_id=run.environment_id,
        case_id=run.case_id,
        inputs=run.inputs,
        sealed_inputs=run.sealed_inputs,
        runner_kind=run.runner_kind,
        trigger=run.trigger,
        triggered_by_id=run.triggered_by_id,
        step_count=run.step_count,
        attempts=run.attempts,
        retry_of=run,
    )
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
    lease: Lease, *, index: int, step_id: str, evidence: dict[str, Any], snapshot: dict[str, Any]
) -> None:
    """Store one step's result and the run's progress in one transaction, if the lease holds.

    The result's digest chains to the run's current head (``reqflo.engine.digest``), which
    moves to it. Raises ``LeaseLost`` (and stores nothing) for a stale token.
    """
    # Exact numbers survive the round trip (`numbers.loads` reads them back).
    sealed = current_cipher().encrypt(numbers.dumps(snapshot, default=str))
    with transaction.atomic():
        run = _lock_current(lease)
        if index != run.next_step:
            raise LeaseLost(f"run {run.pk}: step {index} is not the next step ({run.next_step})")
        status = str(evidence.get("status", ""))
        digest = step_digest(
            run.head_digest,
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


def run_finish(lease: Lease, *, status: RunStatus, message: str = "") -> None:
    """End the run with ``status`` if the lease holds; raises ``LeaseLost`` otherwise."""
    with transaction.atomic():
        run_finish_locked(_lock_current(lease), status=status, message=message)
