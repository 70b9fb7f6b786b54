"""Worker round trips: prove that a message reaches a real Celery worker and comes back.

``worker_round_trip`` is the measured part of the connection check that Admin → Runners offers
(DESIGN.md section 6); ``manage.py ping_worker`` runs it from a shell. The round trip is what a
run dispatch goes through: commit a row, publish to the broker, a worker takes the message and
writes to the database, the sender sees the write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone
from kombu.exceptions import OperationalError

from reqflo import broker
from reqflo.celery import app as celery_app
from reqflo.core.models import WorkerPing

PING_TASK = "reqflo.core.answer_ping"
# Pings are kept a day for support questions ("did any worker answer last night?").
_KEEP_PINGS = timedelta(days=1)


@dataclass(frozen=True)
class RoundTrip:
    """A ping answered: which worker, on which queue, and how long from send to seen answer."""

    queue: str
    worker: str
    milliseconds: float


class WorkerUnreachable(Exception):
    """No worker answered; ``str(error)`` says what was tried, where, and what to check."""


def broker_label() -> str:
    """Return where the broker is, for messages: its URL with any password masked."""
    with celery_app.connection_for_write() as connection:
        if connection.transport_cls == broker.SCHEME:
            folder = (connection.transport_options or {}).get("data_folder_in", ".")
            return f"the embedded broker in {folder}"
        return str(connection.as_uri())


def _start_advice(queue: str) -> str:
    advice = f"Start one with: celery -A reqflo worker -Q {queue}"
    if settings.CELERY_BROKER_URL.startswith(broker.SCHEME):
        # The embedded default's worker is started and restarted by `make run` (start_all).
        return f"{advice}, or (embedded default) check the worker.1 lines of `make run`."
    return advice


def worker_ping_send(*, queue: str, expires_seconds: float) -> WorkerPing:
    """Record a ping and publish it to ``queue`` once the row is committed.

    The message expires with the caller's patience, so a worker that starts much later does not
    answer a check nobody waits for.
    """
    WorkerPing.objects.filter(sent_at__lt=timezone.now() - _KEEP_PINGS).delete()
    ping = WorkerPing.objects.create(queue=queue)
    transaction.on_commit(
        lambda: celery_app.send_task(
            PING_TASK, args=[str(ping.pk)], queue=queue, expires=expires_seconds
        )
    )
    return ping


def worker_ping_answer(*, ping_id: UUID, worker: str) -> bool:
    """Stamp the ping as answered by ``worker``; return False if it was answered already.

    A redelivered message (acks are late) therefore keeps the first answer.
    """
    updated = WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=Now(), worker=worker[:255]
    )
    return updated == 1


def worker_round_trip(
    *, queue: str | None = None, timeout: float = 10.0, poll_seconds: float = 0.02
) -> RoundTrip:
    """Send a ping through the broker and wait until a worker has answered it.

    The time runs from before the row is written until the answer is seen, so it includes
    publishing, the broker, the worker's pickup and the database, give or take ``poll_seconds``.
    Raises ``WorkerUnreachable`` if the broker refuses the message or nobody answers in time.
    """
    queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
    started = time.monotonic()
    try:
        ping = worker_ping_send(queue=queue, expires_seconds=timeout)
    except OperationalError as error:
        raise WorkerUnreachable(
            f"The broker at {broker_label()} refused the ping: {error}. Is it running?"
        ) from None
    deadline = started + timeout
    while True:
        worker = (
            WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False)
            .values_list("worker", flat=True)
            .first()
        )
        if worker is not None:
            elapsed = (time.monotonic() - started) * 1000
            return RoundTrip(queue=queue, worker=worker, milliseconds=elapsed)
        if time.monotonic() >= deadline:
            raise WorkerUnreachable(
                f"No worker answered on queue {queue!r} of {broker_label()} within {timeout:g} s. "
                + _start_advice(queue)
            )
        time.sleep(poll_seconds)
