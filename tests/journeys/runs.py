"""Real runs for journeys tests: dispatched like every trigger, finished through a worker lease."""

from __future__ import annotations

from reqflo.journeys.models import Case, Environment, JourneyVersion
from reqflo.runs.models import Run, RunStatus
from tests.factories import RunFactory


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
    run: Run = RunFactory(version=version, environment=environment, status=status, case=case)
    return run
