"""Send "work on run X" to the workspace's queue, within its concurrency limit.

The broker message is only a nudge: the limit itself is enforced when a worker takes the lease
(``reqflo.runners.leases.lease_take``), so a duplicate or early message never over-admits.
"""

from __future__ import annotations

from uuid import UUID

from reqflo.celery import app as celery_app
from reqflo.runners.config import runner_config_for
from reqflo.runs.models import Run, RunStatus

EXECUTE_RUN_TASK = "reqflo.runners.tasks.execute_run"


def run_enqueue(*, run_id: UUID, queue: str) -> None:
    """Publish one nudge for the run on ``queue``; call it after the run's row is committed."""
    celery_app.send_task(EXECUTE_RUN_TASK, args=[str(run_id)], queue=queue)


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
        run_enqueue(run_id=run_id, queue=config.queue)
    return waiting
