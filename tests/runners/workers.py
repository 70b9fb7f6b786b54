"""Real Celery worker processes on RabbitMQ for cloud run tests, always stopped afterwards.

Each test gets its own region, so its own queue (``reqflo.<region>``), which is deleted at the
end (the embedded file broker's folder is the test's own ``tmp_path``); the test process publishes
to the same broker while the fixture is active. Workers use the
test database and short leases (3 s, heartbeat 1 s) so recovery scenarios finish in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from reqflo import broker
from reqflo.celery import app as celery_app
from reqflo.runs.models import TERMINAL_STATUSES, Run
from tests.live_app import app_env

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
LEASE_SECONDS = 3


def _reset_broker_pools() -> None:
    # Forget the app's pools so the next publish picks the pool of the current broker URL; the
    # pools themselves stay open in kombu's registry, keyed by URL, for whoever uses them next.
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@dataclass
class Workers:
    """Start and kill worker processes serving one queue; every one is stopped at teardown."""

    queue: str
    env: dict[str, str]
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *, concurrency: int = 1) -> subprocess.Popen[bytes]:
        number = len(self.started) + 1
        log = (self.logs / f"worker-{number}.log").open("ab")
        proc = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "reqflo",
                "worker",
                "--queues",
                self.queue,
                "--hostname",
                f"runs-test-{number}-{uuid.uuid4().hex[:6]}@localhost",
                "--concurrency",
                str(concurrency),
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its pool children at once, as a machine failure would."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def pause(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGSTOP the worker and its pool processes, like a long GC pause or a frozen VM."""
        os.killpg(proc.pid, signal.SIGSTOP)

    def resume(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGCONT)

    def kill_pool_child(self, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
        """SIGKILL the pool process running the task; the worker itself starts a new one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            if found:
                for pid in found:
                    os.kill(int(pid), signal.SIGKILL)
                return
            time.sleep(0.05)
        raise AssertionError(f"worker {proc.pid} has no pool process to kill")

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)  # a paused worker cannot shut down
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def region() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@contextmanager
def workers_on(
    region: str, tmp_path: Path, *, rabbitmq: bool, rabbitmq_url: str = RABBITMQ
) -> Iterator[Workers]:
    """Yield worker controls on RabbitMQ (``rabbitmq_url``: a vhost of its own) or the file
    broker; every worker is stopped and the test's queue deleted at the end."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}.{region}"
    env = app_env(
        tmp_path,
        # Queue names derive from it on both sides (a finishing run nudges the next one).
        REQFLO_DEFAULT_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        REQFLO_RUN_LEASE_SECONDS=str(LEASE_SECONDS),
        REQFLO_RUN_HEARTBEAT_SECONDS="1",
    )
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    if rabbitmq:
        env["CELERY_BROKER_URL"] = rabbitmq_url
        celery_app.conf.broker_url = rabbitmq_url
        celery_app.conf.broker_transport_options = {"confirm_publish": True}
    else:
        # The worker's embedded default is the file broker under REQFLO_VAR_DIR/broker.
        celery_app.conf.broker_url = f"{broker.SCHEME}://localhost//"
        celery_app.conf.broker_transport_options = {
            **broker.broker_folders(tmp_path / "broker"),
            "polling_interval": 0.05,
        }
    _reset_broker_pools()
    controls = Workers(queue=queue, env=env, logs=tmp_path)
    try:
        yield controls
    finally:
        controls.stop_all()
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
        _reset_broker_pools()
        if rabbitmq:
            with Connection(rabbitmq_url) as rabbit:
                rabbit.default_channel.queue_delete(queue)


@pytest.fixture
def workers(region: str, tmp_path: Path) -> Iterator[Workers]:
    """Return worker controls for this test's queue, with the test process on RabbitMQ too."""
    with workers_on(region, tmp_path, rabbitmq=True) as controls:
        yield controls


@pytest.fixture
def filesystem_workers(region: str, tmp_path: Path) -> Iterator[Workers]:
    """Return worker controls on the embedded filesystem broker in this test's folder."""
    with workers_on(region, tmp_path, rabbitmq=False) as controls:
        yield controls


def wait_for(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    tick: Callable[[], object] | None = None,
) -> None:
    """Poll ``check`` (after ``tick``, e.g. the sweeper) until true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def finished(run: Run) -> Callable[[], bool]:
    return lambda: Run.objects.filter(pk=run.pk, status__in=TERMINAL_STATUSES).exists()
