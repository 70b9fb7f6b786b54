"""Schedules with real processes: `celery beat` (one, two by mistake, restarted) and a worker.

Beat ticks every second here (``REQFLO_SCHEDULES_TICK_SECONDS=1``); a due time is made by
setting ``next_due_at`` rather than waiting a minute. On RabbitMQ and on the embedded file
broker, both on the test's PostgreSQL database, with a queue of the test's own.
"""

from __future__ import annotations

import base64
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from kombu import Connection

from reqflo.journeys.documents import check_document
from reqflo.journeys.services import journey_create
from reqflo.runs.models import TERMINAL_STATUSES, Run, RunStatus
from reqflo.schedules.alerts import signing_secret
from reqflo.schedules.models import AlertState, Schedule
from reqflo.schedules.services import ScheduleFields, schedule_save
from tests.runners.workers import BIN, RABBITMQ, ROOT, Workers
from tests.runs.fixtures import API_KEY, MakeScenario
from tests.schedules.helpers import Receiver, make_schedule, schedule_runs, webhook_channel

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A step that gets the secret back in the response body and then fails its check.
FAILING: dict[str, object] = {
    "journey": {
        "name": "Echo check",
        "steps": [
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"k": "{{ secrets.api_key }}"},
                },
                "assertions": [{"type": "body_contains", "expected": "no such text"}],
            }
        ],
    }
}


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Stack:
    """Beat and worker processes on a default queue of their own (beat's tick goes there).

    As in the Procfile, alerts have workers of their own (two here, on the alerts queue).
    """

    def __init__(self, base: Workers, region: str, tmp_path: Path) -> None:
        self.queue = f"sched{uuid.uuid4().hex[:10]}"
        env = {**base.env, "REQFLO_DEFAULT_QUEUE": self.queue}
        env["REQFLO_SCHEDULES_TICK_SECONDS"] = "1"
        self.run_queue = f"{self.queue}.{region}"
        self.workers = Workers(queue=f"{self.queue},{self.run_queue}", env=env, logs=tmp_path)
        self.alerts_queue = f"{self.queue}-alerts"
        (tmp_path / "alerts").mkdir()
        self.alerts = Workers(queue=self.alerts_queue, env=env, logs=tmp_path / "alerts")
        self.tmp_path = tmp_path
        self.beats: list[subprocess.Popen[bytes]] = []

    def start_beat(self) -> subprocess.Popen[bytes]:
        number = len(self.beats) + 1
        log = (self.tmp_path / f"beat-{number}.log").open("ab")
        proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "reqflo",
                "beat",
                "--schedule",
                str(self.tmp_path / f"beat-{number}-schedule"),
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.workers.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.beats.append(proc)
        self.workers.started.append(proc)  # stopped with the workers at the end
        return proc

    def start(self) -> None:
        self.workers.start()
        self.alerts.start()
        self.alerts.start()

    def log_text(self) -> str:
        return self.workers.log_text() + "\n" + self.alerts.log_text()

    def close(self, rabbitmq: bool) -> None:
        self.workers.stop_all()
        self.alerts.stop_all()
        if rabbitmq:
            with Connection(RABBITMQ) as rabbit:
                for queue in (self.queue, self.run_queue, self.alerts_queue):
                    rabbit.default_channel.queue_delete(queue)


def _spellings(value: str) -> list[str]:
    return [
        value,
        value.lower(),
        value.upper(),
        urllib.parse.quote(value, safe=""),
        base64.b64encode(value.encode()).decode(),
        value[: len(value) * 2 // 3],
    ]


@pytest.mark.parametrize("broker_kind", ["rabbitmq", "filesystem"])
def test_beat_dispatches_each_due_time_once_and_alerts_once(
    request: pytest.FixtureRequest,
    make_scenario: MakeScenario,
    receiver: Receiver,
    region: str,
    tmp_path: Path,
    broker_kind: str,
) -> None:
    base: Workers = request.getfixturevalue(
        "workers" if broker_kind == "rabbitmq" else "filesystem_workers"
    )
    scenario = make_scenario(region=region)
    channel = webhook_channel(scenario, receiver)
    passing = make_schedule(scenario, name="Profile every minute")
    stack = Stack(base, region, tmp_path)
    try:
        stack.start()
        stack.start_beat()
        stack.start_beat()  # a second beat by mistake
        _wait(lambda: len(schedule_runs(passing)) >= 1, 60, "the first scheduled run")
        first = schedule_runs(passing)[0]
        _wait(
            lambda: Run.objects.get(pk=first.pk).status in TERMINAL_STATUSES, 60, "the run to end"
        )
        assert Run.objects.get(pk=first.pk).status == RunStatus.PASSED
        time.sleep(3)  # both beats kept ticking: still one run for that due time
        assert len(schedule_runs(passing)) == 1

        # Beat restarted mid-interval (killed, started again): nothing is due, nothing runs.
        stack.beats[0].kill()
        stack.beats[0].wait(10)
        stack.start_beat()
        time.sleep(3)
        assert len(schedule_runs(passing)) == 1
        # The next due time (made due now instead of waiting 60 s) runs once.
        Schedule.objects.filter(pk=passing.pk).update(next_due_at=timezone.now())
        _wait(lambda: len(schedule_runs(passing)) >= 2, 30, "the second scheduled run")
        time.sleep(3)
        assert len(schedule_runs(passing)) == 2

        # A failing schedule alerts once, signed, with no spelling of the secret in it.
        Schedule.objects.filter(pk=passing.pk).update(paused=True)
        echo = journey_create(
            workspace=scenario.workspace, author=scenario.owner, checked=check_document(FAILING)
        )
        failing = schedule_save(
            workspace=scenario.workspace,
            by=scenario.owner,
            fields=ScheduleFields(
                name="Echo",
                journey=echo,
                environment=scenario.environment,
                interval_seconds=60,
                failure_threshold=1,
                channels=[channel],
            ),
        )
        _wait(lambda: len(receiver.received) >= 1, 60, "the failing alert")
        Schedule.objects.filter(pk=failing.pk).update(next_due_at=timezone.now())
        _wait(lambda: len(schedule_runs(failing)) >= 2, 30, "a second failing run")
        _wait(
            lambda: all(r.status in TERMINAL_STATUSES for r in schedule_runs(failing)),
            60,
            "the failing runs to end",
        )
        time.sleep(3)
    finally:
        stack.close(rabbitmq=broker_kind == "rabbitmq")
    failing.refresh_from_db()
    assert failing.alert_state == AlertState.FAILING
    assert failing.consecutive_failures == 2
    # The secret derives from the SECRET_KEY of the process that signed: the worker's.
    with override_settings(SECRET_KEY=base.env["SECRET_KEY"]):
        secret = signing_secret(channel)
    [payload] = receiver.verified(secret)  # one alert for two failures
    assert payload["event"] == "failing"
    assert payload["failure"]["step"]["id"] == "echo"
    assert payload["failure"]["assertion"]["type"] == "body_contains"
    raw = b"".join(body for _, body in receiver.received).decode()
    for spelling in _spellings(API_KEY):
        assert spelling not in raw
    received = f"Task {settings.REQFLO_ALERTS_TASK}["  # a worker's "received" log line
    assert received in stack.alerts.log_text(), "sent by an alerts worker"
    assert received not in stack.workers.log_text()
    logs = stack.log_text()
    assert "Schedules tick" in logs
    assert API_KEY not in logs
    assert settings.CELERY_TASK_DEFAULT_QUEUE not in stack.queue
