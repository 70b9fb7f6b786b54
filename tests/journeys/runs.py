"""Real runs for journeys tests: dispatched like every trigger, finished through a worker lease."""

from __future__ import annotations

from reqflo.journeys.models import Case, Environment, JourneyVersion
from reqflo.runners.leases import lease_take, run_finish
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger


def record_run(
    *,
    version: JourneyVersion,
    environment: Environment,
    status: RunStatus,
    case: Case | None = None,
) -> Run:
    """Dispatch a run of ``version`` and end it with ``status``, as a worker would.

    Nothing is requested from the environment: the journeys pages read only the run row.
    """
    run = run_dispatch(
        workspace=environment.workspace,
        version=version,
        environment=environment,
        trigger=Trigger.API,
        case=case,
    ).run
    lease = lease_take(run_id=run.pk)
    assert lease is not None, "the workspace's concurrency limit left the run queued"
    run_finish(lease, status=status)
    run.refresh_from_db()
    return run
