"""Chaos fixtures: real workers on a RabbitMQ vhost of their own, a target that logs every request.

Every case dispatches a few multi-step runs against ``ChaosTarget`` (a loopback server that logs
each request as (run, step, wall-clock time)), injects its fault with real tools (signals,
``pg_terminate_backend`` on this test database only, ``rabbitmqctl close_all_connections`` on
this suite's vhost only, a transaction holding a row lock) and ends with ``audit``: lost runs,
duplicate step rows, completed steps sent again, and stale writes the database rejected.

The vhost is ``REQFLO_CHAOS_VHOST`` (default ``reqflo_chaos``); it is created if missing, so
each engineer or CI job can point the suite at its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection

from reqflo.core.models import Role, Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.services import environment_create, journey_create
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import RunnerConfig
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import TERMINAL_STATUSES, Run, StepResult, Trigger
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.loopback import LoopbackServer, serving
from tests.runners.workers import Workers, region, wait_for, workers_on

VHOST = os.environ.get("REQFLO_CHAOS_VHOST", "reqflo_chaos")
RABBITMQ_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
# A request arriving this long after its step's result was stored is a completed step sent
# again; below it, clocks of two processes on one machine cannot be told apart.
CLOCK_SLACK_SECONDS = 0.002


@dataclass(frozen=True)
class Request:
    run: str
    step: int
    at: float


@dataclass
class ChaosTarget:
    """Logs every request as (run, step, time); ``/s/<step>?run=<id>`` answers 200 after
    ``delay`` seconds, or 503 for the first ``fail_first[step]`` requests of each run to it;
    a step in ``gates`` waits until released."""

    url: str = ""
    delay: float = 0.0
    fail_first: dict[int, int] = field(default_factory=dict)
    gates: dict[int, threading.Event] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, run: str, step: int) -> int:
        with self.lock:
            self.requests.append(Request(run=run, step=step, at=time.time()))
            return sum(1 for r in self.requests if r.run == run and r.step == step)

    def count(self, *, run: Run | None = None, step: int | None = None) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (run is None or r.run == str(run.pk)) and (step is None or r.step == step)
            )

    def since(self, at: float, run: Run) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.run == str(run.pk) and r.at > at]

    def block(self, step: int) -> None:
        self.gates[step] = threading.Event()

    def release(self, step: int) -> None:
        gate = self.gates.pop(step, None)
        if gate is not None:
            gate.set()


def _handler(target: ChaosTarget) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            match = re.fullmatch(r"/s/(\d+)", parts.path)
            if match is None:
                self.send_error(404)
                return
            step = int(match.group(1))
            nth = target.log(parse_qs(parts.query).get("run", [""])[0], step)
            gate = target.gates.get(step)
            if gate is not None:
                gate.wait(60)
            if target.delay:
                time.sleep(target.delay)
            status = 503 if nth <= target.fail_first.get(step, 0) else 200
            body = b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def chaos_target() -> Iterator[ChaosTarget]:
    state = ChaosTarget()
    server = LoopbackServer(_handler(state))
    server.quiet = True  # killed workers leave half-read connections behind
    with serving(server):
        state.url = server.url
        yield state
        for step in list(state.gates):
            state.release(step)


def chaos_document(steps: int, *, retries: dict[int, tuple[int, int]] | None = None) -> Any:
    """Return a journey of ``steps`` GETs of ``/s/<i>?run=<run id>``, each expecting 200.

    ``retries`` maps a step index to (count, delay in ms) of its retries.
    """
    items = []
    for index in range(steps):
        step: dict[str, Any] = {
            "id": f"s{index}",
            "request": {
                "method": "GET",
                "url": f"{{{{ env.base_url }}}}/s/{index}",
                "query": {"run": "{{ run.id }}"},
            },
            "assertions": [{"type": "status_code", "expected": 200}],
        }
        if retries and index in retries:
            count, delay = retries[index]
            step["retries"] = {"count": count, "delay_ms": delay}
        items.append(step)
    return {"journey": {"name": f"Chaos {steps} steps", "steps": items}}


@dataclass
class ChaosWorkspace:
    """A workspace of its own with a chaos journey, an environment and a runner config."""

    workspace: Workspace
    owner: User
    config: RunnerConfig
    dispatch: Callable[[], Run]


MakeWorkspace = Callable[..., ChaosWorkspace]


@pytest.fixture
def chaos_workspace(chaos_target: ChaosTarget, region: str) -> MakeWorkspace:
    """Return a function creating a fresh workspace (own config) on this test's region."""

    def make(
        steps: int = 5, *, retries: dict[int, tuple[int, int]] | None = None, **config: Any
    ) -> ChaosWorkspace:
        workspace = WorkspaceFactory()
        owner = UserFactory()
        MembershipFactory(user=owner, workspace=workspace, role=Role.OWNER)
        journey = journey_create(
            workspace=workspace,
            author=owner,
            checked=check_document(chaos_document(steps, retries=retries)),
        )
        assert journey.head is not None
        version = journey.head
        environment = environment_create(
            workspace=workspace, name="loopback", base_url=chaos_target.url, values={}
        )
        runner = runner_config_for(workspace_id=workspace.pk)
        settings = {"egress_allow_hosts": ["127.0.0.1"], "region": region, **config}
        for name, value in settings.items():
            setattr(runner, name, value)
        runner.save()

        def dispatch() -> Run:
            return run_dispatch(
                workspace=workspace,
                version=version,
                environment=environment,
                trigger=Trigger.API,
                triggered_by=owner,
            ).run

        return ChaosWorkspace(workspace, owner, runner, dispatch)

    return make


def _ensure_vhost() -> None:
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], capture_output=True, check=False)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )


@pytest.fixture
def chaos_workers(region: str, tmp_path: Path) -> Iterator[Workers]:
    """Worker controls on this suite's own vhost (3 s leases, 1 s heartbeats)."""
    _ensure_vhost()
    with workers_on(region, tmp_path, rabbitmq=True, rabbitmq_url=RABBITMQ_URL) as controls:
        yield controls


def close_broker_connections() -> None:
    """Close every connection to this suite's vhost (workers' and this process's)."""
    subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "close_all_connections",
            "--vhost",
            VHOST,
            "--limit",
            "1000",
            "chaos test",
        ],
        capture_output=True,
        check=True,
    )


def _admin() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def terminate_app_connections() -> int:
    """``pg_terminate_backend`` every connection to this test database; return how many."""
    name = connection.settings_dict["NAME"]
    with _admin() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    connection.close()  # ours was among them
    return len(rows)


def database_outage(seconds: float) -> None:
    """Refuse new connections to this test database and end the open ones, for ``seconds``."""
    name = connection.settings_dict["NAME"]
    with _admin() as admin:
        quoted = psycopg.sql.Identifier(name)
        admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(quoted))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            connection.close()
            time.sleep(seconds)
        finally:
            admin.execute(
                psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(quoted)
            )


@dataclass
class Audit:
    """What a chaos case counts; ``clean`` means nothing lost, duplicated or sent again."""

    lost: list[str]
    duplicate_rows: int
    resent: list[tuple[str, int]]
    stale_writes_rejected: int
    statuses: Counter[str]

    def assert_clean(self) -> None:
        assert self.lost == [], f"runs not finished: {self.lost}"
        assert self.duplicate_rows == 0
        assert self.resent == [], f"completed steps sent again: {self.resent}"


def audit(runs: list[Run], target: ChaosTarget, workers: Workers) -> Audit:
    """Count lost runs, duplicate step rows, completed steps re-sent, stale writes rejected."""
    connection.close()  # a chaos case may have ended this process's connection
    ids = [run.pk for run in runs]
    finished = Run.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES)
    lost = sorted(str(pk) for pk in set(ids) - set(finished.values_list("pk", flat=True)))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT run_id, index FROM runs_stepresult WHERE run_id = ANY(%s)"
            " GROUP BY run_id, index HAVING count(*) > 1) d",
            [ids],
        )
        duplicates = cursor.fetchone()[0]
    resent = []
    for run_id, index, stored in StepResult.objects.filter(run_id__in=ids).values_list(
        "run_id", "index", "created_at"
    ):
        later = [
            r
            for r in target.requests
            if r.run == str(run_id)
            and r.step == index
            and r.at > stored.timestamp() + CLOCK_SLACK_SECONDS
        ]
        resent.extend((str(run_id), index) for _ in later)
    stale = len(re.findall(r"Stopped working on run", workers.log_text()))
    statuses = Counter(finished.values_list("status", flat=True))
    return Audit(lost, duplicates, resent, stale, statuses)


def wait_all(runs: list[Run], *, timeout: float, tick: Callable[[], object] | None = None) -> None:
    ids = [run.pk for run in runs]

    def done() -> bool:
        return Run.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES).count() == len(ids)

    wait_for(done, timeout=timeout, what=f"{len(ids)} runs to finish", tick=tick)


def new_name() -> str:
    return uuid.uuid4().hex[:8]


def hold_connection() -> psycopg.Connection[Any]:
    """Return a connection of its own to this test database (not autocommit: it can hold locks)."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )


__all__ = ["region"]  # fixtures re-exported for this suite
