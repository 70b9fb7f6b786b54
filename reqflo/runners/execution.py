"""Execute one cloud run durably: claim, resolve secrets, run each unchecked step, checkpoint.

The steps run in the engine's one loop (``reqflo.engine.run_steps``) from the first step
without a stored result; ``_WorkerSteps`` is the worker's before/after-step part of it.

``run_execute`` is what the ``execute_run`` task calls for "work on run X". It may be called
any number of times for one run (redelivered messages, sweeper nudges): only the holder of the
current lease writes, and a resumed run continues after its last stored step, rebuilding the
earlier steps' outputs from their checkpoints instead of calling the target again.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models.functions import Now
from kombu.exceptions import OperationalError as BrokerError

from reqflo.engine import (
    Artifact,
    RedactionStopped,
    RunOptions,
    RunState,
    merge_inputs,
    new_client,
    numbers,
    run_steps,
)
from reqflo.engine import StepResult as EngineStepResult
from reqflo.engine.egress import EgressTransport
from reqflo.runners.admission import run_enqueue, run_enqueue_at_lease_end
from reqflo.runners.dbretry import InfrastructureFault, db_retry
from reqflo.runners.leases import (
    CheckpointOutOfOrder,
    Lease,
    LeaseLost,
    WorkerStopping,
    cancel_requested,
    checkpoint_commit,
    lease_release,
    lease_renew,
    lease_take,
    overall_status,
    stop_requested,
)
from reqflo.runners.leases import run_finish as lease_finish
from reqflo.runners.limits import (
    StepLimits,
    capped_plan,
    time_limit_before_step,
    time_limit_during_step,
)
from reqflo.runners.models import AttemptEnd, RunnerConfig
from reqflo.runners.timelimit import TimeLimitWatch
from reqflo.runs.inputs import run_inputs, secret_input_values
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.secrets.crypto import UndecryptableValue, current_cipher
from reqflo.secrets.logredact import LogMask, redact_logs
from reqflo.secrets.resolution import (
    ResolvedSecrets,
    SecretResolutionError,
    secrets_resolve_for_plan,
)

logger = logging.getLogger(__name__)


class Heartbeat:
    """Renew a lease from a background thread while a run works (``lost`` once renewal fails).

    A database error does not end the heartbeats: the beat is tried again on a new connection
    one interval later (the lease outlasts several intervals), and the worker keeps its lease
    if the database comes back before it expires.
    """

    def __init__(self, lease: Lease, *, interval: float) -> None:
        self.lease = lease
        self.interval = interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="reqflo-heartbeat", daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    renewed = lease_renew(self.lease)
                except (OperationalError, InterfaceError) as exc:
                    logger.warning(
                        "Lease heartbeat of run %s failed; retrying: %s", self.lease.run_id, exc
                    )
                    connection.close()
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            connection.close()  # the thread's own connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _overall(results: list[EngineStepResult]) -> RunStatus:
    return overall_status([result.status for result in results])


def _timed_out(run: Run, seconds: int) -> bool:
    # The database clock, like the lease: a worker's clock never decides.
    return db_retry(
        lambda _: Run.objects.filter(
            pk=run.pk, started_at__lt=Now() - timedelta(seconds=seconds)
        ).exists(),
        what=f"checking the time limit of run {run.pk}",
    )


def run_state_for(
    run: Run,
    artifact: Artifact,
    resolved: ResolvedSecrets,
    config: RunnerConfig,
    lease: Lease | None = None,
) -> RunState:
    """Return the engine state for the run's next step, restored from its last checkpoint.

    The client goes through the egress policy; the caller closes it (``state.client``). With
    ``lease``, the engine also stops before any request (a step's retries included) once the
    lease is no longer current.
    """
    inputs = run_inputs(run)  # secret inputs unsealed, for this process only (first: it may fail)
    allow_private: bool = settings.REQFLO_EGRESS_ALLOW_PRIVATE
    client = new_client(
        verify_tls=True,
        transport=EgressTransport(allow=config.egress_allow_hosts, allow_private=allow_private),
    )
    limits = StepLimits.of(config)
    # The owner's limits beat the journey's: each step's timeout, retries and delay are capped.
    artifact = Artifact(capped_plan(artifact.plan, limits))
    # A cancel stops the retries of the step in progress too, not only the steps after it.
    options = RunOptions(
        default_timeout_ms=limits.timeout_ms,
        stop_requested=partial(stop_requested, lease)
        if lease is not None
        else partial(cancel_requested, run.pk),
    )
    common: dict[str, Any] = {
        # Coerced again because exact decimals are stored as text (see run_dispatch).
        "inputs": merge_inputs(artifact, overrides=inputs),
        "environment": run.environment.as_mapping(),
        "secrets": resolved.values,
        "options": options,
        "client": client,
    }
    rows = list(StepResult.objects.filter(run=run).order_by("index"))
    if not rows:
        return RunState(artifact, run_id=str(run.pk), **common)
    snapshot = numbers.loads(current_cipher().decrypt(bytes(rows[-1].checkpoint)))
    results = [EngineStepResult.from_dict(row.evidence) for row in rows]
    return RunState.restore(artifact, snapshot, results=results, **common)


class _WorkerSteps:
    """The worker's side of the engine's one step loop (``run_steps``): before and after a step.

    Before each step the run ends instead when a cancel was requested or its time is up; after
    each step the result (and any earlier result the engine re-redacted) is checkpointed under
    the lease. ``index`` is the step being run or about to run; ``stepping`` is true only while
    the engine runs it, so an exception then is the engine's, not the checkpoint's.
    """

    def __init__(
        self,
        run: Run,
        lease: Lease,
        state: RunState,
        config: RunnerConfig,
        log_mask: LogMask,
        watch: TimeLimitWatch,
        heartbeat: Heartbeat,
    ) -> None:
        self.run = run
        self.lease = lease
        self.state = state
        self.config = config
        self.log_mask = log_mask
        self.watch = watch
        self.heartbeat = heartbeat
        self.index = run.next_step
        self.stepping = False

    def may_start(self, index: int) -> bool:
        """Return whether step ``index`` may run; end the run (and return False) otherwise."""
        self.index = index
        run = self.run
        # Secret outputs captured so far (restored ones too) are masked in the log lines of
        # later steps, as the engine masks them in evidence.
        self.log_mask.add(*self.state.redactor.texts())
        if cancel_requested(run.pk):
            _end_cancelled(run, self.lease, index)
            return False
        if _timed_out(run, self.config.run_timeout_seconds):
            lease_finish(
                self.lease,
                status=RunStatus.ERROR,
                message=time_limit_before_step(
                    self.config.run_timeout_seconds, index, run.step_count
                ),
                why=AttemptEnd.TIMEOUT,
            )
            return False
        self.stepping = True
        return True

    def after_step(self, result: EngineStepResult, amended: list[EngineStepResult]) -> bool:
        """Checkpoint the step (and re-redacted earlier ones); return whether to go on."""
        self.stepping = False
        run, index = self.run, result.index
        if self.heartbeat.lost:
            raise LeaseLost(f"run {run.pk}: the lease was lost during step {index + 1}")
        if self.watch.reached:
            # The limit interrupted the step (the engine recorded it as a request error): the
            # step's evidence would blame the target, so it is not stored.
            _end_at_time_limit(run, self.lease, self.config, index)
            return False
        checkpoint_commit(
            self.lease,
            index=index,
            step_id=result.step_id,
            # An exact column: a Decimal is stored as the number it is (reqflo.core.fields).
            evidence=result.to_dict(),
            snapshot=self.state.snapshot(),
            amended={earlier.index: earlier.to_dict() for earlier in amended},
        )
        sent = result.attempts[-1].request if result.attempts else None
        # The URL is the redacted evidence copy; redact_logs masks any secret left anyway.
        logger.info(
            "Run %s step %d/%d %s: %s %s",
            run.pk,
            index + 1,
            run.step_count,
            result.step_id,
            result.status,
            sent.url if sent else "(not sent)",
        )
        return index + 1 >= run.step_count or self.may_start(index + 1)


def _run_steps(
    run: Run, lease: Lease, artifact: Artifact, resolved: ResolvedSecrets, log_mask: LogMask
) -> None:
    config = RunnerConfig.objects.get(workspace_id=run.workspace_id)
    try:
        state = run_state_for(run, artifact, resolved, config, lease)
    except UndecryptableValue:
        # Retrying cannot help, so end the run now instead of burning its attempts.
        lease_finish(
            lease,
            status=RunStatus.ERROR,
            message=f"The run cannot resume at step {run.next_step + 1}: its checkpoint does not "
            "decrypt under the current store key (was the key rotated while it ran?). "
            "Start the run again."
            if run.next_step
            else "The run cannot start: its sealed secret inputs do not decrypt under the "
            "current store key (was the key rotated since it was queued?). Start the run again.",
        )
        return
    start = run.next_step
    steps: _WorkerSteps | None = None
    try:
        with (
            TimeLimitWatch() as watch,
            Heartbeat(lease, interval=settings.REQFLO_RUN_HEARTBEAT_SECONDS) as heartbeat,
        ):
            steps = _WorkerSteps(run, lease, state, config, log_mask, watch, heartbeat)
            finished = (start >= run.step_count or steps.may_start(start)) and run_steps(
                state, start=start, after_step=steps.after_step
            )
        if finished:
            results = [state.results[i] for i in range(run.step_count)]
            lease_finish(lease, status=_overall(results))
    except SoftTimeLimitExceeded:
        _end_at_time_limit(run, lease, config, steps.index if steps else start)
    except RedactionStopped as exc:
        # The engine asked `stop_requested` while masking a long text: cancelled, or the lease
        # is no longer this worker's (the step's evidence was not stored either way).
        if not cancel_requested(run.pk):
            raise LeaseLost(
                f"run {run.pk}: the lease was lost during step {run.next_step + 1}"
            ) from exc
        _end_cancelled(run, lease, steps.index if steps else start)
    except CheckpointOutOfOrder as exc:
        # The worker's progress is not the stored one (a bug, never the target's fault): the
        # run ends saying so instead of being retried into the same disagreement.
        logger.error("Run %s: %s", run.pk, exc)
        lease_finish(lease, status=RunStatus.ERROR, message=str(exc))
    except (LeaseLost, WorkerStopping, InfrastructureFault, OperationalError, InterfaceError):
        raise  # not the engine's: the lease, a stopping worker, the database (run_execute)
    except Exception as exc:
        if steps is None or not steps.stepping:
            raise  # not the engine's: a checkpoint or a check of the run (its task retries)
        _end_engine_crash(run, lease, state, steps.index, exc)
    finally:
        state.client.close()


def _end_engine_crash(run: Run, lease: Lease, state: RunState, index: int, exc: Exception) -> None:
    """End the run with the reason when something escaped the engine during a step.

    The engine turns everything a journey or its target does into a result. Should anything
    still escape, the run ends saying so instead of killing the task and being retried until
    "the worker was lost each time", which would be false.
    """
    crash = state.redactor.redact(f"{type(exc).__name__}: {exc}")
    logger.error("Run %s step %d failed inside the engine: %s", run.pk, index + 1, crash)
    lease_finish(
        lease,
        status=RunStatus.ERROR,
        message=f"Step {index + 1} of {run.step_count} could not be run: "
        f"an unexpected error in the engine ({crash}).",
    )


def _end_at_time_limit(run: Run, lease: Lease, config: RunnerConfig, index: int) -> None:
    logger.warning("Run %s reached its time limit during step %d", run.pk, index + 1)
    lease_finish(
        lease,
        status=RunStatus.ERROR,
        message=time_limit_during_step(
            config.run_timeout_seconds, index, run.step_count, who="Cloud Runner"
        ),
        why=AttemptEnd.TIMEOUT,
    )


def _end_cancelled(run: Run, lease: Lease, index: int) -> None:
    canceller = Run.objects.select_related("cancelled_by").get(pk=run.pk).cancelled_by
    who = (canceller.email or canceller.get_username()) if canceller else ""
    logger.info("Run %s cancelled before step %d", run.pk, index + 1)
    lease_finish(
        lease,
        status=RunStatus.CANCELLED,
        message=f"Cancelled by {who or 'someone'} before step {index + 1} of {run.step_count}; "
        "the steps before it are kept.",
    )


def run_execute(*, run_id: UUID, holder: str = "", redelivered: bool = False) -> None:
    """Work on run ``run_id`` if its lease can be taken; return when it finishes or is lost.

    ``holder`` names this worker (its Celery hostname, then the pool process) on the run while
    it holds the lease. A worker that is shutting down releases the run after the step in
    progress and nudges it to another worker at once; a database that stays unreachable ends
    the attempt as an infrastructure fault (retried after a backoff, not counted as lost). A
    ``redelivered`` message that finds the lease held nudges the run again for the moment the
    lease ends (``run_enqueue_at_lease_end``): its holder has probably died.
    """
    lease = lease_take(run_id=run_id, holder=holder)
    if lease is None:
        if redelivered:
            try:
                delay = run_enqueue_at_lease_end(run_id=run_id)
            except BrokerError as exc:  # the sweeper settles it after the lease instead
                logger.warning("Could not nudge run %s for its lease's end: %s", run_id, exc)
            else:
                if delay is not None:
                    logger.info("Run %s is held; nudged again in %.1f s", run_id, delay)
        return
    try:
        _execute_leased(run_id, lease)
    except WorkerStopping as exc:
        logger.info("Releasing run %s: %s", run_id, exc)
        if lease_release(lease, why=AttemptEnd.RELEASED, detail=str(exc)):
            config = RunnerConfig.objects.get(workspace__runs__pk=run_id)
            try:
                run_enqueue(run_id=run_id, config=config)
            except BrokerError as broker_exc:  # the sweeper nudges it instead
                logger.warning("Could not nudge released run %s: %s", run_id, broker_exc)
    except (InfrastructureFault, OperationalError, InterfaceError) as exc:
        logger.warning("Infrastructure fault on run %s: %s", run_id, exc)
        connection.close()
        try:
            lease_release(lease, why=AttemptEnd.INFRASTRUCTURE_FAULT, detail=str(exc))
        except InfrastructureFault:
            logger.exception("Could not record the infrastructure fault of run %s", run_id)


def _execute_leased(run_id: UUID, lease: Lease) -> None:
    run = Run.objects.select_related("artifact", "environment", "workspace").get(pk=run_id)
    artifact = Artifact.from_json(run.artifact.plan)
    try:
        resolved = secrets_resolve_for_plan(
            workspace=run.workspace,
            plan=artifact.plan,
            environment=run.environment.name,
            run_id=str(run.pk),
        )
    except SecretResolutionError as exc:
        lease_finish(lease, status=RunStatus.ERROR, message=str(exc))
        return
    try:
        secret_inputs = secret_input_values(run)
    except UndecryptableValue:
        secret_inputs = frozenset()  # _run_steps ends the run saying why
    masked = ResolvedSecrets(values=resolved.values, redact=resolved.redact | secret_inputs)
    with redact_logs(masked) as log_mask:
        try:
            _run_steps(run, lease, artifact, resolved, log_mask)
        except LeaseLost as exc:
            # Another worker owns the run now; what this one did is not stored.
            logger.warning("Stopped working on run %s: %s", run_id, exc)
