"""Fetching an import source from a URL ends by a total deadline, whatever the server does."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from reqflo.engine.imports import SourceError, fetch_source
from reqflo.engine.imports.fetch import FETCH_DEADLINE_S
from tests.conftest import Loopback


class _Drip(BaseHTTPRequestHandler):
    """Answers 200 and then one byte every 0.1 s, each well inside any read timeout."""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(600):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return  # the client hung up at its deadline


class _Small(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = b"openapi: 3.0.3\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_server_dripping_bytes_is_cut_off_at_the_total_deadline(loopback: Loopback) -> None:
    url = loopback(_Drip).url + "/spec.yaml"
    started = time.monotonic()

    with pytest.raises(SourceError) as caught:
        fetch_source(url, deadline_s=1.0)

    assert caught.value.message == f"cannot fetch {url}: no complete answer within 1 s"
    assert time.monotonic() - started < 10  # not the minute the server would take


def test_the_default_deadline_is_thirty_seconds_and_a_prompt_answer_is_read(
    loopback: Loopback,
) -> None:
    assert FETCH_DEADLINE_S == 30.0
    assert fetch_source(loopback(_Small).url + "/spec.yaml") == b"openapi: 3.0.3\n"
