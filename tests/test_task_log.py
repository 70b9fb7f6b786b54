"""Routine Celery lines of housekeeping tasks are dropped from the worker's and beat's logs;
every other task's lines, and every warning, still show (reqflo/celery.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs in its own process: Celery's logging set-up takes over the root logger. Each line is
# written through Celery's own loggers with Celery's own format strings.
SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from reqflo.celery import app
    from django.conf import settings
    from celery.app import trace
    app.log.setup(loglevel=sys.argv[1], redirect_stdouts=False)
    strategy = logging.getLogger("celery.worker.strategy")
    tracer = logging.getLogger("celery.app.trace")
    beat = logging.getLogger("celery.beat")
    for name in (settings.REQFLO_SWEEPER_TASK, settings.REQFLO_SCHEDULES_TASK,
                 settings.REQFLO_SENDS_PRUNE_TASK, "reqflo.runners.execute_run"):
        context = {"name": name, "id": "ID-" + name, "runtime": 0.01, "return_value": None}
        strategy.info(trace.LOG_RECEIVED, context)
        tracer.info(trace.LOG_SUCCESS, context)
        beat.info("Scheduler: Sending due task %s (%s)", "entry-" + name, name)
        tracer.error(trace.LOG_FAILURE, dict(context, exc="boom", description="raised"))
    logging.getLogger("reqflo.runners.tasks").info("Sweeper re-queued 1 run(s) and ended 0")
    """
)


def log_of(level: str, **extra: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "reqflo.settings"}
    env.pop("REQFLO_LOG_HOUSEKEEPING", None)
    env.update(extra)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, level],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def info_log() -> str:
    return log_of("INFO")


def test_routine_lines_of_housekeeping_tasks_are_dropped(info_log: str) -> None:
    from django.conf import settings

    for name in (
        settings.REQFLO_SWEEPER_TASK,
        settings.REQFLO_SCHEDULES_TASK,
        settings.REQFLO_SENDS_PRUNE_TASK,
    ):
        assert f"Task {name}[ID-{name}] received" not in info_log
        assert f"Task {name}[ID-{name}] succeeded" not in info_log
        assert f"Sending due task entry-{name}" not in info_log
        # A failure of the same task still shows.
        assert f"Task {name}[ID-{name}] raised" in info_log


def test_other_tasks_and_what_housekeeping_did_still_show(info_log: str) -> None:
    assert "Task reqflo.runners.execute_run[ID-reqflo.runners.execute_run] received" in info_log
    assert "Task reqflo.runners.execute_run[ID-reqflo.runners.execute_run] succeeded" in info_log
    assert "Sending due task entry-reqflo.runners.execute_run" in info_log
    assert "Sweeper re-queued 1 run(s) and ended 0" in info_log


def test_debug_level_shows_every_line() -> None:
    from django.conf import settings

    name = settings.REQFLO_SWEEPER_TASK
    assert f"Task {name}[ID-{name}] received" in log_of("DEBUG")


def test_reqflo_log_housekeeping_keeps_the_routine_lines_at_info() -> None:
    from django.conf import settings

    name = settings.REQFLO_SWEEPER_TASK
    log = log_of("INFO", REQFLO_LOG_HOUSEKEEPING="1")
    assert f"Sending due task entry-{name}" in log
    assert f"Task {name}[ID-{name}] received" in log
