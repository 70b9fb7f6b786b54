"""Worker heartbeats: every Celery worker process says who it is and what it serves, in a row.

Admin → Runners must list the workers consuming a region's queue, and Celery's remote control
(``inspect``/``ping`` broadcasts) is off on the embedded broker (``reqflo/broker.py``), so the
workers report themselves through the database instead, the same way on every broker:

- ``worker_ready`` writes the worker's row (hostname, queues, pool size, pid, started) and
  starts a thread that stamps ``last_seen_at`` from the database clock every
  ``REQFLO_WORKER_HEARTBEAT_SECONDS``, with the number of runs whose lease this worker holds;
- ``worker_shutting_down`` (SIGTERM: a warm shutdown begins) stamps ``draining_since``: the
  runs this worker holds release their lease after the step in progress is checkpointed
  (``reqflo.runners.leases.checkpoint_commit``), for another worker to pick up at once;
- ``worker_shutdown`` stamps ``stopped_at``, so a worker stopped cleanly disappears at once;
- a worker killed outright simply stops stamping: its row goes stale after
  ``STALE_AFTER_BEATS`` intervals and the page no longer counts it.

The signals fire in the main worker process, so the thread never runs inside a pool child.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import Any

from celery.signals import worker_ready, worker_shutdown, worker_shutting_down
from django.conf import settings
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone

from reqflo.runners.models import WorkerHeartbeat
from reqflo.runs.models import Run, RunStatus

logger = logging.getLogger(__name__)

# A worker is live while its last stamp is younger than this many heartbeat intervals.
STALE_AFTER_BEATS = 3
# Rows of workers gone for longer than this are deleted when a worker starts.
_FORGET_AFTER = timedelta(days=1)

_beat: _HeartbeatThread | None = None


def heartbeat_interval() -> float:
    return float(settings.REQFLO_WORKER_HEARTBEAT_SECONDS)


def fresh_within() -> timedelta:
    """Return how recent a heartbeat must be for its worker to count as live."""
    return timedelta(seconds=heartbeat_interval() * STALE_AFTER_BEATS)


def _runs_in_progress(hostname: str) -> int:
    return Run.objects.filter(status=RunStatus.RUNNING, lease_holder=hostname).count()


def worker_heartbeat_start(*, hostname: str, queues: list[str], pool_size: int, pid: int) -> None:
    """Write the row of a worker that has just started (again): a fresh ``started_at``."""
    WorkerHeartbeat.objects.filter(
        stopped_at__lt=timezone.now() - _FORGET_AFTER,
    ).delete()
    WorkerHeartbeat.objects.filter(
        stopped_at__isnull=True, last_seen_at__lt=timezone.now() - _FORGET_AFTER
    ).delete()
    values: dict[str, Any] = {
        "queues": sorted(queues),
        "pool_size": pool_size,
        "pid": pid,
        "runs_in_progress": _runs_in_progress(hostname),
        "started_at": Now(),
        "last_seen_at": Now(),
        "stopped_at": None,
        "draining_since": None,
    }
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults=values)


def worker_heartbeat_beat(*, hostname: str) -> bool:
    """Stamp the worker as seen now; return False if its row is gone (it is then rewritten)."""
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        last_seen_at=Now(), stopped_at=None, runs_in_progress=_runs_in_progress(hostname)
    )
    return updated == 1


def worker_drain(*, hostname: str) -> int:
    """Mark the worker as shutting down; return how many runs it holds (they release soon)."""
    WorkerHeartbeat.objects.filter(hostname=hostname).update(draining_since=Now())
    return _runs_in_progress(hostname)


def worker_heartbeat_stop(*, hostname: str) -> None:
    """Mark the worker as stopped, so it leaves the list at once."""
    WorkerHeartbeat.objects.filter(hostname=hostname).update(
        stopped_at=Now(), last_seen_at=Now(), runs_in_progress=0
    )


class _HeartbeatThread(threading.Thread):
    def __init__(self, *, hostname: str, queues: list[str], pool_size: int) -> None:
        super().__init__(name="reqflo-worker-heartbeat", daemon=True)
        self.hostname = hostname
        self.queues = queues
        self.pool_size = pool_size
        self.stopping = threading.Event()

    def _start_row(self) -> None:
        worker_heartbeat_start(
            hostname=self.hostname, queues=self.queues, pool_size=self.pool_size, pid=os.getpid()
        )

    def run(self) -> None:
        try:
            first = True
            while first or not self.stopping.wait(heartbeat_interval()):
                try:
                    if first or not worker_heartbeat_beat(hostname=self.hostname):
                        self._start_row()
                    first = False
                except Exception:
                    # A database outage must not end the heartbeats for good: log, reconnect
                    # on the next beat.
                    logger.exception("Worker heartbeat of %s failed; retrying", self.hostname)
                    connection.close()
        finally:
            connection.close()


@worker_ready.connect(dispatch_uid="reqflo.runners.heartbeats.ready")
def _on_worker_ready(sender: Any, **kwargs: Any) -> None:
    global _beat
    amqp_queues = sender.app.amqp.queues
    # ``-Q`` sets the queues consumed; without it the worker consumes every declared queue.
    queues = sorted(amqp_queues.consume_from or amqp_queues)
    pool_size = int(getattr(sender.controller, "concurrency", 0) or 0)
    _beat = _HeartbeatThread(hostname=str(sender.hostname), queues=queues, pool_size=pool_size)
    _beat.start()


@worker_shutting_down.connect(dispatch_uid="reqflo.runners.heartbeats.shutting_down")
def _on_worker_shutting_down(sender: Any, **kwargs: Any) -> None:
    # ``sender`` is the worker's hostname; this runs in the main process, in a signal handler.
    try:
        held = worker_drain(hostname=str(sender))
        logger.info("Worker %s is stopping: %d run(s) will be released", sender, held)
    except Exception:
        logger.exception("Could not mark worker %s as stopping", sender)
    finally:
        connection.close()


@worker_shutdown.connect(dispatch_uid="reqflo.runners.heartbeats.shutdown")
def _on_worker_shutdown(sender: Any, **kwargs: Any) -> None:
    beat = _beat
    if beat is None:
        return
    beat.stopping.set()
    beat.join(timeout=5)
    try:
        worker_heartbeat_stop(hostname=beat.hostname)
    except Exception:
        logger.exception("Could not mark worker %s stopped", beat.hostname)
    finally:
        connection.close()
