"""The app under a real gunicorn on a loopback port, for tests that need a live server.

``LiveApp(env, log)`` starts gunicorn the way the Procfile's ``web`` line does (its logger class
and access log included), on a free port, its output in ``log``; ``stop()`` ends it (SIGTERM,
then SIGKILL) and ``kill()`` ends it at once, as a crashed machine would.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database this test runs on, for a process the test starts."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest


# Variables of the test process that must not leak into a started process's configuration.
OWN_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL",
    "REQFLO_DEFAULT_QUEUE",
    "REQFLO_RUN_LEASE_SECONDS",
    "REQFLO_RUN_HEARTBEAT_SECONDS",
    "REQFLO_EGRESS_ALLOW_PRIVATE",
)


def app_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of an app process (web, worker, beat) a test starts: production
    settings on this test's database, the store key this process encrypts secrets with (so the
    process can decrypt them), files under ``var_dir``, INFO logs; then ``overrides``."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="reqflo.settings",
        DATABASE_URL=test_database_url(),
        SECRET_KEY="live-process-test-secret-key-" + "x" * 30,
        REQFLO_SECRETS_KEY=settings.REQFLO_SECRETS_KEY,
        ALLOWED_HOSTS="localhost",
        REQFLO_VAR_DIR=str(var_dir),
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def procfile_web_options() -> list[str]:
    """The gunicorn options of the Procfile's ``web`` line after ``--bind`` and its value."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    words = shlex.split(line.removeprefix("web:"))
    bind = words.index("--bind")
    return words[bind + 2 :]


@dataclass
class LiveApp:
    """gunicorn serving ``reqflo.wsgi`` on ``url`` with ``env`` (``options``: the Procfile's)."""

    env: dict[str, str]
    log: Path
    options: list[str] = field(default_factory=procfile_web_options)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/api/v1/openapi.json") -> None:
        command = [str(BIN / "gunicorn"), "reqflo.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, *self.options],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # A bound, not a timing: on a loaded 2-core machine the workers may boot slowly.
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{self.url}{ready_path}", timeout=2)
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM every gunicorn process; SIGKILL those still there after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to every gunicorn process at once (SIGKILL: as a crashed machine would)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)
