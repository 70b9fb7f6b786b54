"""The CLI's server client sends an exact decimal as the JSON number it is (issue 13, numbers).

``reqflo run --cloud --data rows.json`` reads ``0.12345678901234567891`` as a Decimal; the
request body must carry every digit (httpx's own encoder refused a Decimal: an internal error).
"""

from __future__ import annotations

import json
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

from reqflo.cli.server import Server, ServerConfig
from tests.loopback import LoopbackServer, serving

RECEIVED: list[bytes] = []


class Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        RECEIVED.append(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Content-Type"] == "application/json"
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_decimal_in_a_request_body_reaches_the_server_with_every_digit() -> None:
    RECEIVED.clear()
    with serving(LoopbackServer(Echo)) as target:
        server = Server(ServerConfig(url=target.url, token="rqf_" + "k" * 43))
        try:
            rows = [{"d": Decimal("0.12345678901234567891"), "n": 11234567800033596096}]
            assert server.post("/batches", {"rows": rows, "name": "Bücher"}) == {"ok": True}
        finally:
            server.close()
    (body,) = RECEIVED
    assert b'"d": 0.12345678901234567891' in body
    assert b"11234567800033596096" in body
    assert json.loads(body)["name"] == "Bücher"
