"""``manage.py ping_worker``: send one message through the broker and time a worker's answer."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reqflo.core.diagnostics import WorkerUnreachable, broker_label, worker_round_trip


class Command(BaseCommand):
    help = (
        "Check that a Celery worker consumes from the broker: send a ping, wait for the answer "
        "and print the round trip. Exits 1 if no worker answers in time."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queue",
            default=settings.CELERY_TASK_DEFAULT_QUEUE,
            help="queue to ping (default: %(default)s)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="seconds to wait for an answer (default: %(default)s)",
        )

    def handle(self, *args: Any, queue: str, timeout: float, **options: Any) -> None:
        if timeout <= 0:
            raise CommandError(f"--timeout must be more than 0 seconds, not {timeout:g}.")
        try:
            trip = worker_round_trip(queue=queue, timeout=timeout)
        except WorkerUnreachable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{trip.worker} answered on queue {trip.queue!r} of {broker_label()} "
                f"in {trip.milliseconds:.0f} ms"
            )
        )
