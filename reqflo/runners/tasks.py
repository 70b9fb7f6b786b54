"""Celery tasks of the Cloud Runner: thin adapters over ``execution`` and ``sweeper``.

``execute_run`` is routed to the workspace's region queue by ``run_enqueue``; the task itself
decides nothing, so a redelivered or duplicate message is harmless (the lease decides).
"""

from __future__ import annotations

import logging
import os
from uuid import UUID

from celery import Task, shared_task
from django.conf import settings

from reqflo.runners.admission import EXECUTE_RUN_TASK
from reqflo.runners.execution import run_execute
from reqflo.runners.sends import sends_prune
from reqflo.runners.sweeper import runs_sweep

logger = logging.getLogger(__name__)


@shared_task(name=EXECUTE_RUN_TASK, ignore_result=True, acks_late=True, bind=True)
def execute_run(self: Task[[str], None], run_id: str) -> None:
    """Work on one run until it finishes, its lease is lost or this worker stops."""
    # The pool process tells two attempts of one worker apart in the attempt records.
    holder = f"{self.request.hostname or ''} pid {os.getpid()}".strip()
    # The broker redelivers a message whose worker lost its connection (most often: it died).
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    run_execute(run_id=UUID(run_id), holder=holder, redelivered=redelivered)


@shared_task(name=settings.REQFLO_SWEEPER_TASK, ignore_result=True)
def sweep_expired_runs() -> None:
    """Re-queue runs whose lease expired and nudge queued runs that lost their message."""
    report = runs_sweep()
    if report.requeued or report.settled:
        logger.info(
            "Sweeper re-queued %d run(s) and ended %d", len(report.requeued), len(report.settled)
        )


@shared_task(name=settings.REQFLO_SENDS_PRUNE_TASK, ignore_result=True)
def prune_sends() -> None:
    """Delete finished editor sends past their keep (count and age) and their draft artifacts."""
    pruned = sends_prune()
    if pruned:
        logger.info("Pruned %d editor send(s) and their draft artifacts", pruned)
