"""A live server and real ``reqflo runner start`` processes for the self-hosted runner tests.

``live_app`` serves the app with gunicorn on loopback, on the test database, with 3 s leases
and 1 s heartbeats; ``runners`` starts runner processes (each in a working directory of its
own, its output in a log file there) and always stops them. Nothing is mocked: the runner
claims over HTTP, runs the engine against a real loopback target and checkpoints to the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from reqflo.runs.models import Run, RunStatus
from tests.runners.workers import OWN_VARIABLES, _test_database_url

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
LEASE_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveApp:
    """The app under gunicorn on one loopback port."""

    log: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    lease_seconds: int = LEASE_SECONDS
    heartbeat_seconds: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
        env.update(
            DJANGO_SETTINGS_MODULE="reqflo.settings",
            DATABASE_URL=_test_database_url(),
            SECRET_KEY="self-hosted-test-secret-key-" + "x" * 30,
            REQFLO_SECRETS_KEY=settings.REQFLO_SECRETS_KEY,
            ALLOWED_HOSTS="127.0.0.1",
            REQFLO_VAR_DIR=str(self.log.parent),
            REQFLO_RUN_LEASE_SECONDS=str(self.lease_seconds),
            REQFLO_RUN_HEARTBEAT_SECONDS=str(self.heartbeat_seconds),
            LOG_LEVEL="INFO",
        )
        return env

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "reqflo.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--threads",
                    "16",
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # A bound, not a timing: on a loaded 2-core machine the workers may boot slowly.
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{self.url}/api/v1/openapi.json", timeout=2)
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop gunicorn; a claim still long-polling for a killed runner does not hold it up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    app = LiveApp(log=tmp_path / "gunicorn.log")
    app.start()
    try:
        yield app
    finally:
        app.stop()


@dataclass
class RunnerProc:
    """One ``reqflo runner start`` process, its working directory and its log."""

    proc: subprocess.Popen[bytes]
    cwd: Path

    @property
    def log(self) -> str:
        return (self.cwd / "runner.log").read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            assert time.monotonic() < deadline, f"runner never logged {text!r}:\n{self.log}"
            time.sleep(0.05)


@dataclass
class Runners:
    """Starts runner processes against ``app``; ``stop_all`` ends every one still running."""

    app: LiveApp
    base: Path
    started: list[RunnerProc] = field(default_factory=list)

    def start(self, token: str, *args: str, env: dict[str, str] | None = None) -> RunnerProc:
        cwd = self.base / f"runner{len(self.started)}"
        cwd.mkdir(parents=True)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_") and k != "CI"}
        environ.update({"REQFLO_RUNNER_POLL_SECONDS": "2", **(env or {})})
        with (cwd / "runner.log").open("ab") as log:
            proc = subprocess.Popen(
                [
                    str(BIN / "reqflo"),
                    "runner",
                    "start",
                    "--url",
                    self.app.url,
                    "--token",
                    token,
                    *args,
                ],
                cwd=cwd,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        runner = RunnerProc(proc=proc, cwd=cwd)
        self.started.append(runner)
        return runner

    def stop_all(self) -> None:
        for runner in self.started:
            if runner.proc.poll() is None:
                runner.signal(signal.SIGCONT)
                runner.signal(signal.SIGKILL)
        for runner in self.started:
            runner.proc.wait(timeout=20)


@pytest.fixture
def runners(live_app: LiveApp, tmp_path: Path) -> Iterator[Runners]:
    procs = Runners(app=live_app, base=tmp_path / "runners")
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def wait_finished(run: Run, timeout: float = 30) -> Run:
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, timeout, f"run {run.pk} to finish")
    return Run.objects.get(pk=run.pk)


def wait_status(run: Run, status: RunStatus, timeout: float = 30) -> None:
    wait_for(lambda: Run.objects.get(pk=run.pk).status == status, timeout, f"{status}")
