"""A NUL character in what a run records (a binary body, a UTF-16 text, a JSON string holding
"\\u0000") is written as U+2400 in evidence, on every path: PostgreSQL's JSON columns refuse
U+0000, and a Cloud Runner checkpoint holding one failed, the task died and the run was retried
until it gave up as "the worker was lost" (issue 13 verifier)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from reqflo.engine.results import NUL_SYMBOL
from tests.engine.exactness_target import run_text

BODIES = {
    "/png": ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"),
    "/utf16": ("text/plain", "token ok".encode("utf-16-le")),
    "/json": ("application/json", json.dumps({"a": "x\u0000y", "k\u0000": 1}).encode()),
}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        kind, body = BODIES[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


JOURNEY = """
journey:
  name: NUL
  steps:
    - id: png
      request: {method: POST, url: "{{ env.base_url }}/png", body: "a\\u0000b"}
      assertions: [{type: body_contains, expected: "PNG"}]
    - id: utf16
      always: true
      request: {method: POST, url: "{{ env.base_url }}/utf16"}
      assertions: [{type: body_contains, expected: "nope"}]
    - id: json
      always: true
      request: {method: POST, url: "{{ env.base_url }}/json"}
      assertions: [{type: json_path, path: "$.a", operator: equals, expected: "xy"}]
      outputs: {a: {from: body, path: "$.a"}}
"""


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


@pytest.mark.django_db
def test_evidence_holds_no_nul_and_postgresql_stores_it(base_url: str) -> None:
    result = run_text(JOURNEY, base_url)
    assert [step.status for step in result.steps] == ["passed", "failed", "failed"]
    for step in result.steps:
        evidence = step.to_dict()
        text = json.dumps(evidence)
        assert not any("\x00" in each for each in _strings(evidence))
        # The column type the run's evidence is stored in takes it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::jsonb ->> 'step_id'", [text])
            assert cursor.fetchone() == (step.step_id,)
    json_step = result.steps[2].to_dict()
    assert json_step["attempts"][-1]["assertions"][0]["actual"] == f"x{NUL_SYMBOL}y"
    assert json_step["outputs"]["a"] == f"x{NUL_SYMBOL}y"
    # A JSON body spells NUL as an escape: it stays the text the server sent.
    assert json_step["attempts"][-1]["response"]["body"] == BODIES["/json"][1].decode()
    assert NUL_SYMBOL in result.steps[1].to_dict()["attempts"][-1]["response"]["body"]
    # Only evidence is rewritten: the output itself keeps the value the server sent.
    assert result.steps[2].outputs["a"] == "x\u0000y"
