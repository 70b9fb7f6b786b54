"""Send "work on run X" to the workspace's queue, within its concurrency limit.

The broker message is only a nudge: the limit itself is enforced when a worker takes the lease
(``reqflo.runners.leases.lease_take``), so a duplicate or early message never over-admits.
"""

from __future__ import annotations

import math
from uuid import UUID

from reqflo.celery import app as celery_app
from reqflo.runners.config import runner_config_for
from reqflo.runners.limits import StepLimits
from reqflo.runners.models import RunnerConfig
from reqflo.runs.models import Run, RunStatus

EXECUTE_RUN_TASK = "reqflo.runners.tasks.execute_run"


def task_time_limits(config: RunnerConfig) -> tuple[int, int]:
    """Return the (soft, hard) Celery time limits of one run's task under ``config``.

    A run executes in one task, so the task may last as long as the run may, plus the step
    that is running when the run timeout passes (the timeout is checked between steps): at
    most every attempt of it timing out, with the longest delays between them.
    """
    longest_step = math.ceil(StepLimits.of(config).longest_step_seconds())
    soft = config.run_timeout_seconds + longest_step + 30
    return soft, soft + 30


def run_enqueue(*, run_id: UUID, config: RunnerConfig) -> None:
    """Publish one nudge for the run on its region's queue; call it after the row is committed."""
    soft, hard = task_time_limits(config)
    celery_app.send_task(
        EXECUTE_RUN_TASK,
        args=[str(run_id)],
        queue=config.queue,
        soft_time_limit=soft,
        time_limit=hard,
    )


def runs_enqueue_waiting(*, workspace_id: UUID) -> list[UUID]:
    """Nudge the oldest queued runs of a workspace that fit in its free slots; return them."""
    config = runner_config_for(workspace_id=workspace_id)
    running = Run.objects.filter(workspace_id=workspace_id, status=RunStatus.RUNNING).count()
    free = max(0, config.concurrency_limit - running)
    waiting = list(
        Run.objects.filter(workspace_id=workspace_id, status=RunStatus.QUEUED)
        .order_by("created_at")
        .values_list("pk", flat=True)[:free]
    )
    for run_id in waiting:
        run_enqueue(run_id=run_id, config=config)
    return waiting
