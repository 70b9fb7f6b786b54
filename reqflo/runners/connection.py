"""The Cloud Runner connection check of Admin → Runners: broker, workers, a round trip.

Each part is measured and says in words what failed and what to do:

1. **Broker**: open a connection to the broker the app publishes to.
2. **Workers**: the live heartbeats (``reqflo.runners.heartbeats``) of workers consuming the
   region's queue. Celery's remote control is off on the embedded broker, so the database is
   where workers are found, the same way on every broker.
3. **Round trip**: a ping task sent to the queue and answered by a worker through the database
   (``reqflo.core.diagnostics.worker_round_trip``), timed from send to seen answer. It runs only
   when the button is pressed, and only when parts 1 and 2 passed (otherwise it could only wait
   for its timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from reqflo.celery import app as celery_app
from reqflo.core.diagnostics import WorkerUnreachable, broker_label, worker_round_trip
from reqflo.runners.models import RunnerConfig, WorkerHeartbeat
from reqflo.runners.selectors import live_workers, recently_stopped_workers

BROKER_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class CheckPart:
    """One part of the check: ``ok`` is None when it was not tried (``summary`` says why)."""

    name: str
    ok: bool | None
    summary: str
    advice: str = ""
    milliseconds: float | None = None
    # The summary without the broker's address or worker names, for members who are not
    # owners (``for_members``); empty when ``summary`` names neither.
    public: str = ""

    @property
    def state(self) -> str:
        return {True: "ok", False: "failed", None: "skipped"}[self.ok]


@dataclass(frozen=True)
class ConnectionReport:
    """What the connection check found for one queue, and when."""

    queue: str
    broker: CheckPart
    workers: CheckPart
    round_trip: CheckPart | None
    worker_rows: list[WorkerHeartbeat] = field(default_factory=list)
    checked_at: datetime = field(default_factory=timezone.now)

    @property
    def parts(self) -> list[CheckPart]:
        return [p for p in (self.broker, self.workers, self.round_trip) if p is not None]

    @property
    def ok(self) -> bool:
        return all(part.ok for part in self.parts)


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def check_broker(*, timeout: int = BROKER_TIMEOUT_SECONDS) -> CheckPart:
    """Open (and close) one connection to the broker the app publishes runs to."""
    started = time.monotonic()
    where = broker_label()
    # "the embedded broker in var/broker" names itself; a URL needs "The broker at".
    broker = where[0].upper() + where[1:] if where.startswith("the ") else f"The broker at {where}"
    try:
        with celery_app.connection_for_write(connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=0, timeout=timeout)
            connection.default_channel  # noqa: B018  (opening a channel is part of the check)
    except (OperationalError, OSError) as error:
        return CheckPart(
            "Broker",
            False,
            f"{broker} is unreachable: {error}.",
            "Start the broker (RabbitMQ: systemctl start rabbitmq-server) or correct "
            "CELERY_BROKER_URL; runs wait queued until it is back.",
            _since(started),
            public="The broker is unreachable.",
        )
    except Exception as error:
        # Reached, but refused (wrong credentials: AMQP 403, a missing vhost: 530, …): a
        # diagnostic answers every failure in words, never with a 500.
        return CheckPart(
            "Broker",
            False,
            f"{broker} refused the connection: {error}.",
            "Check the user name, password and virtual host in CELERY_BROKER_URL (the same "
            "for the web app and every worker); runs wait queued until it accepts them.",
            _since(started),
            public="The broker refused the connection.",
        )
    return CheckPart(
        "Broker",
        True,
        f"{broker} accepts connections.",
        "",
        _since(started),
        public="The broker accepts connections.",
    )


def check_workers(*, queue: str) -> tuple[CheckPart, list[WorkerHeartbeat]]:
    """Find the live workers consuming ``queue`` from their heartbeats."""
    started = time.monotonic()
    live = live_workers()
    serving = [worker for worker in live if queue in worker.queues]
    elapsed = _since(started)
    if serving:
        names = ", ".join(worker.hostname for worker in serving)
        count = len(serving)
        verb = "worker consumes" if count == 1 else "workers consume"
        summary = f"{count} {verb} queue {queue}: {names}."
        public = f"{count} {verb} queue {queue}."
        return CheckPart("Workers", True, summary, "", elapsed, public=public), serving
    summary = public = f"No worker consumes queue {queue}."
    others = sorted({q for worker in live for q in worker.queues})
    if others:
        summary += f" Live workers consume only: {', '.join(others)}."
    stopped = [w for w in recently_stopped_workers() if queue in w.queues]
    if stopped:
        last = stopped[0]
        when = timezone.localtime(last.stopped_at or last.last_seen_at).strftime("%H:%M:%S")
        summary += f" {last.hostname} served it and stopped at {when}."
    advice = f"Start one with: celery -A reqflo worker -Q {queue}"
    return CheckPart("Workers", False, summary, advice, elapsed, public=public), []


def check_round_trip(*, queue: str, timeout: float | None = None) -> CheckPart:
    """Send a ping to ``queue`` and wait for a worker to answer it through the database."""
    wait = float(timeout or settings.REQFLO_CONNECTION_CHECK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        trip = worker_round_trip(queue=queue, timeout=wait)
    except (WorkerUnreachable, OperationalError) as error:
        return CheckPart(
            "Round trip",
            False,
            str(error),
            "Look at the worker's log: it may be busy with long runs (every pool process "
            "taken), stuck, or connected to another broker or database.",
            _since(started),
            public=f"No worker answered a ping sent to queue {queue}.",
        )
    return CheckPart(
        "Round trip",
        True,
        f"A ping sent to queue {queue} was answered by {trip.worker}.",
        "",
        trip.milliseconds,
        public=f"A ping sent to queue {queue} was answered.",
    )


def for_members(report: ConnectionReport) -> ConnectionReport:
    """``report`` as members other than owners see it: status and counts, no broker address
    and no worker names (each part's ``public`` summary, and no worker rows)."""

    def public(part: CheckPart | None) -> CheckPart | None:
        return replace(part, summary=part.public or part.summary) if part else None

    broker, workers = public(report.broker), public(report.workers)
    assert broker is not None
    assert workers is not None
    return replace(
        report, broker=broker, workers=workers, round_trip=public(report.round_trip), worker_rows=[]
    )


def connection_status(*, config: RunnerConfig) -> ConnectionReport:
    """Return the quick status shown on arrival: the broker and the workers, no round trip."""
    queue = config.queue
    broker = check_broker()
    workers, rows = check_workers(queue=queue)
    return ConnectionReport(
        queue=queue, broker=broker, workers=workers, round_trip=None, worker_rows=rows
    )


def connection_check(*, config: RunnerConfig, timeout: float | None = None) -> ConnectionReport:
    """Run the whole check: broker, workers and, when both passed, a real round trip."""
    queue = config.queue
    broker = check_broker()
    workers, rows = check_workers(queue=queue)
    if not broker.ok:
        trip = CheckPart("Round trip", None, "Not tried: the broker is unreachable.")
    elif not workers.ok:
        trip = CheckPart("Round trip", None, f"Not tried: no worker consumes queue {queue}.")
    else:
        trip = check_round_trip(queue=queue, timeout=timeout)
        busy = sum(min(w.runs_in_progress, w.pool_size) for w in rows)
        slots = sum(w.pool_size for w in rows)
        if not trip.ok and slots and busy >= slots:
            # The ping queues behind runs like any task: say so instead of "stuck".
            trip = replace(
                trip,
                advice=f"Every pool process on queue {queue} is running a run ({busy} of "
                f"{slots}), so the ping waits behind them. Start more workers, or more "
                "processes per worker (--concurrency), for this queue.",
            )
    return ConnectionReport(
        queue=queue, broker=broker, workers=workers, round_trip=trip, worker_rows=rows
    )
