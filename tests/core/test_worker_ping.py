"""The worker round trip: a ping goes through a real broker to a real worker process and back.

The worker and the sender (``manage.py ping_worker``) are separate processes on the test
database, once on the embedded filesystem broker and once on RabbitMQ, each on a queue of its
own so that other workers on the machine never see the pings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kombu import Connection

from reqflo.core.diagnostics import worker_ping_answer
from reqflo.core.models import WorkerPing
from tests.live_app import app_env as live_app_env

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Processes = Callable[[str | None], dict[str, str]]


@pytest.fixture
def app_env(tmp_path: Path) -> Processes:
    """Return a function giving the environment of app processes on ``broker`` (None: files)."""

    def make(broker: str | None) -> dict[str, str]:
        env = live_app_env(
            tmp_path,
            SECRET_KEY="worker-ping-test-secret-key-" + "x" * 30,
            REQFLO_SECRETS_KEY="worker-ping-test-store-key-" + "y" * 20,
            REQFLO_DEFAULT_QUEUE=f"test-ping-{uuid.uuid4().hex[:12]}",
        )
        if broker is not None:
            env["CELERY_BROKER_URL"] = broker
        return env

    return make


@pytest.fixture
def start_worker() -> Iterator[Callable[[dict[str, str]], str]]:
    """Return a function starting a Celery worker process; every worker is stopped at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str]) -> str:
        name = f"ping-test-{uuid.uuid4().hex[:8]}@localhost"
        proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "reqflo",
                "worker",
                "--queues",
                env["REQFLO_DEFAULT_QUEUE"],
                "--hostname",
                name,
                "--concurrency",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(proc)
        return name

    yield start
    for proc in started:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _ping(env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "ping_worker", "--timeout", str(timeout)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 60,
        check=False,
    )


def _assert_answered_by(result: subprocess.CompletedProcess[str], worker: str) -> None:
    assert result.returncode == 0, result.stderr
    assert f"{worker} answered on queue 'test-ping-" in result.stdout
    assert result.stdout.rstrip().endswith(" ms")
    ping = WorkerPing.objects.get()
    assert ping.worker == worker
    assert ping.answered_at is not None
    assert ping.answered_at >= ping.sent_at


def test_a_worker_answers_through_the_filesystem_broker(
    app_env: Processes, start_worker: Callable[[dict[str, str]], str]
) -> None:
    env = app_env(None)
    worker = start_worker(env)
    _assert_answered_by(_ping(env, timeout=60), worker)


def test_a_worker_answers_through_rabbitmq(
    app_env: Processes, start_worker: Callable[[dict[str, str]], str]
) -> None:
    env = app_env(RABBITMQ)
    queue = env["REQFLO_DEFAULT_QUEUE"]
    try:
        worker = start_worker(env)
        result = _ping(env, timeout=60)
        assert "guest:guest" not in result.stdout + result.stderr  # the password is masked
        _assert_answered_by(result, worker)
    finally:
        with Connection(RABBITMQ) as broker:
            broker.default_channel.queue_delete(queue)


def test_without_a_worker_the_check_fails_saying_what_to_start(app_env: Processes) -> None:
    env = app_env(None)
    result = _ping(env, timeout=1)
    assert result.returncode == 1
    queue = env["REQFLO_DEFAULT_QUEUE"]
    assert f"No worker answered on queue '{queue}'" in result.stderr
    assert f"celery -A reqflo worker -Q {queue}" in result.stderr
    assert "Traceback" not in result.stderr
    assert WorkerPing.objects.get().answered_at is None


def test_an_unreachable_broker_is_named_with_its_password_masked(app_env: Processes) -> None:
    env = app_env("amqp://guest:hunter2@127.0.0.1:1//")
    result = _ping(env, timeout=5)
    assert result.returncode == 1
    assert "The broker at amqp://guest:**@127.0.0.1:1// refused the ping" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_redelivered_ping_keeps_the_first_answer() -> None:
    ping = WorkerPing.objects.create(queue="q")
    assert worker_ping_answer(ping_id=ping.pk, worker="first@host") is True
    assert worker_ping_answer(ping_id=ping.pk, worker="second@host") is False
    ping.refresh_from_db()
    assert ping.worker == "first@host"
