"""``manage.py start_all``: run the Procfile (web, worker, beat) in the foreground.

honcho runs the processes; two of its defaults are adjusted for a clean Ctrl-C:

- It sends SIGTERM to each process *group*, so a Celery worker's pool processes die under the
  main process while it shuts down warmly, which can leave it waiting on them until the SIGKILL.
  Here the SIGTERM goes to each program itself (the Procfile ``exec``s them), and each program
  stops its own children; the SIGKILL after the grace period still takes whole groups.
- It sends that SIGKILL after 5 s. A warm Celery shutdown on the filesystem transport takes
  6-8 s even when idle (it polls), and a killed worker loses the messages it held unacknowledged,
  which that transport only puts back on a clean exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
from argparse import ArgumentParser
from typing import Any

import honcho.manager
from django.conf import settings
from django.core.management.base import BaseCommand
from honcho.command import main as honcho_main
from honcho.compat import ProcessManager

SHUTDOWN_GRACE_SECONDS = 30


class _TerminateProgramOnly(ProcessManager):
    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Start the web server, a Celery worker and Celery beat from the Procfile in the "
        "foreground; one Ctrl-C stops them all."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--procfile",
            default=str(settings.BASE_DIR / "Procfile"),
            help="Procfile to run (default: %(default)s)",
        )

    def handle(self, *args: Any, procfile: str, **options: Any) -> None:
        honcho.manager.KILL_WAIT = SHUTDOWN_GRACE_SECONDS
        honcho.manager.ProcessManager = _TerminateProgramOnly
        # The Procfile names programs relative to the project (.venv/bin/…).
        os.chdir(settings.BASE_DIR)
        # honcho exits with the first stopped process's code (130 after Ctrl-C), as `make` expects.
        honcho_main(["start", "--procfile", procfile])
