"""Fixtures for run tests: a loopback target that counts hits, and a 3-step journey using a secret.

Imported by ``tests/runs/conftest.py`` and ``tests/runners/conftest.py``.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.journeys.services import environment_create, journey_create
from reqflo.runners.config import runner_config_for
from reqflo.runners.models import RunnerConfig
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, Trigger
from reqflo.secrets.services import Actor, secret_create
from tests.loopback import LoopbackServer, serving

# The credential every test searches for where it must never appear.
API_KEY = "sk_live_R5runQ8vX2pL9mZ4rT8wK1nB"
# The session token the target issues; a secret output of the login step.
TOKEN = "tok_R5sessionH7Jd2Lw0PzXa9Vb7"
GATE_TIMEOUT = 20.0
# What /big answers: 200,000 characters of base64-like text with an "x" every few characters (the
# shape that made the redactor spin with a one-character secret).
BIG_BLOB = "".join(
    random.Random(13).choices(string.ascii_letters + string.digits + "+/", k=200_000)
)


@dataclass
class Hit:
    path: str
    started: float
    finished: float = 0.0


@dataclass
class Target:
    """A real HTTP server on loopback that records every request it answers."""

    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    seen_keys: list[str] = field(default_factory=list)
    slow_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    gates: dict[str, threading.Event] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for hit in self.hits if hit.path == path)

    def block(self, path: str) -> None:
        """Hold requests to ``path`` until ``release`` (at most GATE_TIMEOUT seconds each)."""
        self.gates[path] = threading.Event()

    def release(self, path: str) -> None:
        gate = self.gates.pop(path, None)
        if gate is not None:
            gate.set()

    def wait_for_hits(self, path: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while self.count(path) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"the target got {self.count(path)} of {count} hits on {path}"
                self.arrived.wait(left)


def _handler(target: Target) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            hit = Hit(path=parts.path, started=time.monotonic())
            with target.lock:
                target.hits.append(hit)
                target.seen_keys.append(self.headers.get("X-Api-Key", ""))
            with target.arrived:
                target.arrived.notify_all()
            if parts.path == "/redirect":
                # Sends the client on to the address in ?to= (an egress test's forbidden one).
                self.send_response(302)
                self.send_header("Location", parse_qs(parts.query)["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            gate = target.gates.get(parts.path)
            if gate is not None:
                gate.wait(GATE_TIMEOUT)
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length) or b"null")
            status, body = self._respond(parts.path, parse_qs(parts.query), sent)
            # Stamped before the answer leaves, so a request caused by it always starts later.
            hit.finished = time.monotonic()
            self._answer(status, body)

        def _respond(
            self, path: str, query: dict[str, list[str]], sent: Any
        ) -> tuple[int, dict[str, Any]]:
            if path == "/login":
                if self.headers.get("X-Api-Key") == API_KEY and sent == {"key": API_KEY}:
                    return 200, {"token": TOKEN}
                return 401, {"error": "bad key"}
            if path == "/profile":
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    return 200, {"name": "Ada"}
                return 401, {"error": "bad token"}
            if path == "/echo":
                return 200, {"echo": query.get("k", [""])[0]}
            if path == "/big":
                return 200, {"blob": BIG_BLOB}
            if path == "/slow":
                time.sleep(target.slow_seconds)
                return 200, {"slept": target.slow_seconds}
            return 404, {"error": "not found"}

        do_GET = _handle
        do_POST = _handle

    return Handler


@pytest.fixture
def target() -> Iterator[Target]:
    """Start a loopback target for one test and stop it afterwards (releasing any gate)."""
    state = Target()
    with serving(LoopbackServer(_handler(state))) as server:
        state.url = server.url
        yield state
        for path in list(state.gates):
            state.release(path)


THREE_STEPS: dict[str, Any] = {
    "journey": {
        "name": "Durable profile",
        "steps": [
            {
                "id": "login",
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/login",
                    "headers": {"X-Api-Key": "{{ secrets.api_key }}"},
                    "json": {"key": "{{ secrets.api_key }}"},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
                "outputs": {"token": {"from": "body", "path": "$.token", "secret": True}},
            },
            {
                "id": "profile",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/profile",
                    "headers": {"Authorization": "Bearer {{ steps.login.outputs.token }}"},
                },
                "assertions": [
                    {"type": "json_path", "path": "$.name", "operator": "equals", "expected": "Ada"}
                ],
            },
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"k": "{{ secrets.api_key }}"},
                },
                "assertions": [{"type": "body_contains", "expected": "echo"}],
            },
        ],
    }
}

ONE_SLOW_STEP: dict[str, Any] = {
    "journey": {
        "name": "Slow one",
        "steps": [
            {
                "id": "slow",
                "request": {"method": "GET", "url": "{{ env.base_url }}/slow"},
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


@dataclass
class Scenario:
    """One workspace's journey, environment and runner config, ready to dispatch runs."""

    workspace: Workspace
    owner: User
    version: JourneyVersion
    environment: Environment
    config: RunnerConfig

    def dispatch(self) -> Run:
        return run_dispatch(
            workspace=self.workspace,
            version=self.version,
            environment=self.environment,
            trigger=Trigger.API,
            triggered_by=self.owner,
        ).run


MakeScenario = Callable[..., Scenario]


@pytest.fixture
def make_scenario(workspace: Workspace, owner: User, target: Target) -> MakeScenario:
    """Return a function setting up a journey against ``target`` with the ``api_key`` secret."""

    def make(
        document: dict[str, Any] = THREE_STEPS, *, secret: bool = True, **config: Any
    ) -> Scenario:
        journey: Journey = journey_create(
            workspace=workspace, author=owner, checked=check_document(document)
        )
        assert journey.head is not None
        environment = environment_create(
            workspace=workspace, name="loopback", base_url=target.url, values={}
        )
        if secret:
            secret_create(
                workspace=workspace, actor=Actor(user=owner), name="api_key", value=API_KEY
            )
        runner = runner_config_for(workspace_id=workspace.pk)
        for name, value in {"egress_allow_hosts": ["127.0.0.1"], **config}.items():
            setattr(runner, name, value)
        runner.save()
        return Scenario(workspace, owner, journey.head, environment, runner)

    return make
