"""The Celery application; configuration comes from Django settings (``CELERY_`` namespace).

Also quiets the routine lines of housekeeping tasks in the worker's and beat's logs. Beat sends
the run sweeper every 5 s and the schedules tick every 10 s; Celery logs each at INFO three
times ("Sending due task" in beat, "received" and "succeeded in" in the worker): ~2,000 lines an
hour of `make run` saying nothing. The tasks log what they *did* themselves (re-queued runs,
pruned sends) and every warning and failure still shows; only those three routine INFO lines
of the tasks named by ``housekeeping_tasks`` are dropped. ``LOG_LEVEL=DEBUG`` shows them again,
and so does ``REQFLO_LOG_HOUSEKEEPING=1`` alone (the embedded soak counts beat's sends).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.settings")

app = Celery("reqflo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Loggers Celery writes the routine lines with: the worker's "received", the task tracer's
# "succeeded in", beat's "Sending due task".
_ROUTINE_LOGGERS = frozenset({"celery.worker.strategy", "celery.app.trace", "celery.beat"})


def housekeeping_tasks() -> frozenset[str]:
    """Names of the periodic tasks whose routine lines are dropped (from settings)."""
    from django.conf import settings

    return frozenset(
        {
            settings.REQFLO_SWEEPER_TASK,
            settings.REQFLO_SCHEDULES_TASK,
            settings.REQFLO_SENDS_PRUNE_TASK,
        }
    )


def _task_name(record: logging.LogRecord) -> str | None:
    args: Any = record.args
    if isinstance(args, dict):  # the worker's lines: "Task %(name)s[%(id)s] ..."
        name = args.get("name")
        return name if isinstance(name, str) else None
    if record.name == "celery.beat" and isinstance(args, tuple) and len(args) == 2:
        return str(args[1])  # "Scheduler: Sending due task %s (%s)": entry name, task name
    return None


class HousekeepingFilter(logging.Filter):
    """Drop INFO-or-lower routine lines of housekeeping tasks; pass everything else.

    Keeps every record above INFO, and every record when the root logger is at DEBUG.
    """

    def __init__(self, tasks: frozenset[str] | None = None) -> None:
        super().__init__()
        self.tasks = housekeeping_tasks() if tasks is None else tasks

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or record.name not in _ROUTINE_LOGGERS:
            return True
        if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
            return True
        return _task_name(record) not in self.tasks


@after_setup_logger.connect(weak=False)
def _quiet_housekeeping(logger: logging.Logger, **_: Any) -> None:
    """Put the filter on each handler of Celery's root logger (once it is set up)."""
    if os.environ.get("REQFLO_LOG_HOUSEKEEPING", "").lower() in ("1", "true", "yes", "on"):
        return
    for handler in logger.handlers:
        if not any(isinstance(f, HousekeepingFilter) for f in handler.filters):
            handler.addFilter(HousekeepingFilter())
