"""Worker heartbeats: the row each real worker process keeps, and what it says about itself."""

from __future__ import annotations

import pytest

from reqflo.runners.models import WorkerHeartbeat
from tests.runners.workers import Workers, region, wait_for, workers

__all__ = ["region", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _row(queue: str) -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(queues__contains=[queue]).first()


def test_a_worker_keeps_its_row_fresh_and_rewrites_it_when_it_is_gone(workers: Workers) -> None:
    workers.env["REQFLO_WORKER_HEARTBEAT_SECONDS"] = "1"
    proc = workers.start(concurrency=3)
    wait_for(lambda: _row(workers.queue) is not None, timeout=60, what="the first heartbeat")
    first = _row(workers.queue)
    assert first is not None
    assert (first.queues, first.pool_size, first.pid) == ([workers.queue], 3, proc.pid)
    assert first.stopped_at is None
    assert first.runs_in_progress == 0
    wait_for(
        lambda: WorkerHeartbeat.objects.get(pk=first.pk).last_seen_at > first.last_seen_at,
        timeout=30,
        what="a later stamp",
    )
    WorkerHeartbeat.objects.filter(pk=first.pk).delete()  # say, an operator cleaned the table
    wait_for(lambda: _row(workers.queue) is not None, timeout=30, what="the row rewritten")
    again = _row(workers.queue)
    assert again is not None
    assert (again.hostname, again.pool_size) == (first.hostname, 3)
    workers.stop_all()
    stopped = WorkerHeartbeat.objects.get(pk=first.pk)
    assert stopped.stopped_at is not None
