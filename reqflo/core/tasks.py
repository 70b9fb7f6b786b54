"""Celery tasks of the core app: thin adapters over services."""

from __future__ import annotations

from uuid import UUID

from celery import Task, shared_task

from reqflo.core.diagnostics import PING_TASK, worker_ping_answer


@shared_task(name=PING_TASK, bind=True, ignore_result=True)
def answer_ping(self: Task[[str], None], ping_id: str) -> None:
    """Answer a connection-check ping with this worker's name (see ``reqflo.core.diagnostics``)."""
    worker_ping_answer(ping_id=UUID(ping_id), worker=self.request.hostname or "unknown worker")
