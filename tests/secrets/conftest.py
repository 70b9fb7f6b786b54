"""Fixtures for the secret store: a real secret value, and clients with a known IP address.

Workspaces and personas (owner, editor, viewer, outsider) come from tests/conftest.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey
from reqflo.journeys.services import journey_create
from reqflo.secrets import services
from reqflo.secrets.models import Secret
from tests.loopback import LoopbackServer, serving

# A realistic credential that the tests search for everywhere it must never appear.
SECRET_VALUE = "sk_live_Q7vX2pL9mZ4rT8wK1nB6cY3h"
STAGING_VALUE = "stg_Hq83JdLw02PzXa9Vb71Ke5Rt"
ROTATED_VALUE = "sk_live_Rot8ted9Value0Zq4Lm2Np"
PRODUCTION_VALUE = "prd_Vx81LmQw4Zt7Ha2Kc9Pj3Ns"
ALL_VALUES = (SECRET_VALUE, STAGING_VALUE, ROTATED_VALUE, PRODUCTION_VALUE)


def assert_no_value(text: str, where: str) -> None:
    """Fail if ``text`` contains any of the test values, saying where it showed."""
    for value in ALL_VALUES:
        assert value not in text, f"{where} shows a secret value"


@pytest.fixture
def login() -> Callable[[User | None], Client]:
    """Return a client signed in as the user (anonymous for ``None``)."""

    def make(user: User | None) -> Client:
        client = Client(REMOTE_ADDR="203.0.113.7")
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def actor(owner: User) -> services.Actor:
    return services.Actor(user=owner, ip_address="203.0.113.7")


@pytest.fixture
def environments(workspace: Workspace) -> list[Environment]:
    """Acme's ``staging`` and ``production`` environments."""
    return [
        Environment.objects.create(
            workspace=workspace, name=name, base_url=f"https://{name}.acme.test"
        )
        for name in ("staging", "production")
    ]


@pytest.fixture
def secret(workspace: Workspace, actor: services.Actor, environments: list[Environment]) -> Secret:
    """``payments_api_key`` with a default value and a staging value."""
    created = services.secret_create(
        workspace=workspace,
        actor=actor,
        name="payments_api_key",
        description="Payments sandbox key",
        value=SECRET_VALUE,
    )
    services.secret_environment_value_set(
        secret=created, actor=actor, environment="staging", value=STAGING_VALUE
    )
    return created


@pytest.fixture
def every_log_record(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Collect every log record of every logger at DEBUG, fully formatted with its traceback.

    Levels are lowered on every logger (an operator may run with LOG_LEVEL=DEBUG or turn
    httpx's logger up) and records are taken where loggers handle them, so neither a logger
    that does not propagate nor one without handlers escapes.
    """
    captured: list[str] = []
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    original_handle = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        captured.append(formatter.format(record))
        original_handle(self, record)

    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    monkeypatch.setattr(logging.Logger, "handle", handle)
    try:
        yield captured
    finally:
        for logger, level in levels:
            logger.setLevel(level)
        logging.disable(disabled)


class EchoHandler(BaseHTTPRequestHandler):
    """Answer every request with what it received, so secrets come back in the response."""

    received: list[dict[str, object]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        echo = {"path": self.path, "headers": dict(self.headers), "body": body}
        self.received.append(echo)
        payload = json.dumps(echo).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the query string: log it where the tests can see it.
        logging.getLogger("echo").info(format, *args)


@pytest.fixture
def echo_url() -> Iterator[str]:
    """Start an echo server on loopback for the test and return its URL."""
    EchoHandler.received = []
    with serving(LoopbackServer(EchoHandler)) as server:
        yield f"{server.url}/echo"


def publish_journey(workspace: Workspace, owner: User, name: str, header: str) -> Journey:
    """Publish v1 of a one-step journey sending ``header`` as its X-Api-Key header."""
    document = {
        "journey": {
            "name": name,
            "steps": [
                {
                    "id": "call",
                    "request": {
                        "method": "GET",
                        "url": "https://api.acme.test/orders",
                        "headers": {"X-Api-Key": header},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        }
    }
    return journey_create(
        workspace=workspace, author=owner, checked=check_document(document), message="v1"
    )
