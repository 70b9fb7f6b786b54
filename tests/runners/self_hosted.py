"""A live server and real ``reqflo runner start`` processes for the self-hosted runner tests.

``live_app`` serves the app with gunicorn on loopback, on the test database, with 3 s leases
and 1 s heartbeats; ``runners`` starts runner processes (each in a working directory of its
own, its output in a log file there) and always stops them. Nothing is mocked: the runner
claims over HTTP, runs the engine against a real loopback target and checkpoints to the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reqflo.runs.models import Run, RunStatus
from tests.live_app import LiveApp, app_env

BIN = Path(sys.executable).parent
LEASE_SECONDS = 3


def self_hosted_app(
    log: Path, *, lease_seconds: int = LEASE_SECONDS, heartbeat_seconds: int = 1
) -> LiveApp:
    """The live server on the test database (not started): short leases and heartbeats, and
    two workers of 16 threads (long-polling runners hold threads while they wait)."""
    env = app_env(
        log.parent,
        ALLOWED_HOSTS="127.0.0.1",
        REQFLO_RUN_LEASE_SECONDS=str(lease_seconds),
        REQFLO_RUN_HEARTBEAT_SECONDS=str(heartbeat_seconds),
    )
    options = ["--workers", "2", "--threads", "16", "--no-control-socket"]
    return LiveApp(env=env, log=log, options=options)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    app = self_hosted_app(tmp_path / "gunicorn.log")
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
