"""Fixtures of the schedules tests: the runs tests' scenario and workers, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.loopback import LoopbackServer, serving
from tests.runners.workers import filesystem_workers, region, workers
from tests.runs.fixtures import make_scenario, target
from tests.schedules.helpers import Receiver

__all__ = ["filesystem_workers", "make_scenario", "receiver", "region", "target", "workers"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.received.append((dict(self.headers.items()), body))
                status = state.statuses.pop(0) if state.statuses else 200
            if state.hold:
                state.release.wait(60)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(LoopbackServer(Handler)) as server:
        state.url = server.url
        try:
            yield state
        finally:
            state.release.set()  # a held request ends before the server stops
