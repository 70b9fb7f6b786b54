"""``manage.py start_all``: run the Procfile (web, worker, alerts, beat) in the foreground.

A program that dies is restarted with a backoff while the others keep serving; Ctrl-C stops
them all (``reqflo.core.supervisor``). Two choices matter for a clean Ctrl-C:

- SIGTERM goes to each program itself (the Procfile ``exec``s them), not to its process group,
  so a Celery worker's pool processes are stopped by the worker during its warm shutdown instead
  of dying under it; the SIGKILL after the grace period still takes whole groups.
- The grace period is 30 s, not honcho's 5 s: a warm Celery shutdown on the polling file broker
  takes 6-8 s even when idle, and a killed worker loses the messages it held unacknowledged,
  which that broker only puts back on a clean exit.
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from reqflo.core.supervisor import supervise

SHUTDOWN_GRACE_SECONDS = 30


class Command(BaseCommand):
    help = (
        "Start the web server, a Celery worker, the alerts worker and Celery beat from the "
        "Procfile in the foreground, restarting any that dies; one Ctrl-C stops them all."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--procfile",
            default=str(settings.BASE_DIR / "Procfile"),
            help="Procfile to run (default: %(default)s)",
        )

    def handle(self, *args: Any, procfile: str, **options: Any) -> None:
        path = Path(procfile).resolve()
        # The Procfile names programs relative to the project (.venv/bin/…).
        os.chdir(settings.BASE_DIR)
        # Exit with 130 after Ctrl-C, as `make run` expects.
        sys.exit(supervise(path, grace_seconds=SHUTDOWN_GRACE_SECONDS))
