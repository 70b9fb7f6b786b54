"""A real HTTP target on loopback for engine tests, and helpers to run journeys against it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reqflo.engine import (
    RunOptions,
    RunResult,
    compile_definition,
    load_definition,
    merge_inputs,
    run_artifact,
)
from tests.loopback import LoopbackServer, serving

HANG_CAP_SECONDS = 2.0
# Records of 88 bytes (comma included) in the 50 MB JSON document of /bigjson.
BIG_JSON_RECORDS = 50 * 1024 * 1024 // 88
DOCUMENT = {
    "status": "paid",
    "total": 13.5,
    "count": 2,
    "paid": True,
    "note": None,
    "name": "Alice Example",
    "tags": [],
    "empty": "",
    "items": [
        {"id": 1, "sku": "tea-01", "price": 4.5},
        {"id": 2, "sku": "mug-02", "price": 9},
    ],
}


@dataclass
class TargetState:
    """Per-server memory: attempts per flaky key and the requests seen."""

    attempts: dict[str, int] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: TargetState

    # Headers and body go out in two writes; with Nagle's algorithm each response waits ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(
        self,
        status: int,
        body: bytes | str | Any,
        *,
        content_type: str = "application/json",
        headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ) -> None:
        if isinstance(body, str):
            data = body.encode()
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_PUT(self) -> None:
        self._route()

    def do_PATCH(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_OPTIONS(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._body()
        with self.state.lock:
            self.state.requests.append(
                {"method": self.command, "path": url.path, "headers": dict(self.headers)}
            )
        parts = url.path.strip("/").split("/")
        route = getattr(self, f"route_{parts[0].replace('-', '_')}", None)
        if route is None:
            self._send(404, {"error": f"no route {url.path}"})
            return
        route(parts[1:], query, body)

    def route_json(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self._send(200, DOCUMENT, headers=[("X-Multi", "a"), ("X-Multi", "b"), ("X-Count", "42")])

    def route_echo(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        echo = {
            "method": self.command,
            "query": parse_qs(urlsplit(self.path).query),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "json": parsed,
        }
        self._send(200, echo)

    def route_login(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        data = json.loads(body or b"{}")
        if not data.get("password"):
            self._send(401, {"error": "invalid credentials"})
            return
        token = f"tok-{data['password']}-issued"
        self._send(
            200,
            {"token": token, "user": {"email": data.get("email")}},
            headers=[("Set-Cookie", "shop_session=s3ss10n; Path=/")],
        )

    def route_whoami(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self._send(
            200,
            {
                "cookie": self.headers.get("Cookie"),
                "authorization": self.headers.get("Authorization"),
            },
        )

    def route_hang(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        time.sleep(min(float(query.get("ms", "1000")) / 1000, HANG_CAP_SECONDS))
        self._send(200, {"slept": True})

    def route_flaky(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        key, fails = query["key"], int(query.get("fail", "1"))
        with self.state.lock:
            count = self.state.attempts[key] = self.state.attempts.get(key, 0) + 1
        if count <= fails:
            self._send(503, {"error": "try again", "attempt": count})
        else:
            self._send(200, {"ok": True, "attempt": count})

    def route_redirect(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        hops = int(query.get("n", "1"))
        target = f"/redirect?n={hops - 1}" if hops > 1 else "/json"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_status(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self._send(int(rest[0]), {"status": int(rest[0])})

    def route_text(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self._send(200, "hello plain world", content_type="text/plain; charset=utf-8")

    def route_latin1(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        declared = "; charset=latin-1" if "declared" in query else ""
        self._send(200, "café olé".encode("latin-1"), content_type=f"text/plain{declared}")

    def route_big(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        size = int(query.get("bytes", str(50 * 1024 * 1024)))
        chunk = b"x" * (1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        sent = 0
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            self.wfile.write(piece)
            sent += len(piece)

    def route_bigjson(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        """Stream a ~50 MB JSON document of ~600k small records, built batch by batch."""
        records = int(query.get("records", str(BIG_JSON_RECORDS)))
        head = b'{"count": %d, "items": [' % records
        tail = b'], "last": {"item": "end"}}'
        record = b'{"id": "%08d", "sku": "tea-01", "note": "' + b"x" * 40 + b'"}'
        size = len(head) + records * (len(record % 0) + 1) - 1 + len(tail)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(head)
        for start in range(0, records, 10_000):
            batch = b",".join(record % i for i in range(start, min(start + 10_000, records)))
            self.wfile.write(batch + (b"," if start + 10_000 < records else b""))
        self.wfile.write(tail)

    def route_drip(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "10")
        self.end_headers()
        for _ in range(10):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.1)

    def route_garbage(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def route_close(self, rest: list[str], query: dict[str, str], body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"partial": ')
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)


class QuietServer(LoopbackServer):
    # TLS probes and dropped connections are provoked on purpose; no tracebacks.
    quiet = True


@dataclass
class Target:
    base_url: str
    state: TargetState

    def attempts(self, key: str) -> int:
        return self.state.attempts.get(key, 0)


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    state = TargetState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    with serving(QuietServer(handler)) as server:
        yield Target(server.url, state)


RunJourney = Callable[..., RunResult]


@pytest.fixture
def run_journey(target: Target) -> RunJourney:
    """Load, compile and run a journey document against the target."""

    def run(
        text: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        environment: Mapping[str, Any] | None = None,
        options: RunOptions | None = None,
        **kwargs: Any,
    ) -> RunResult:
        artifact = compile_definition(load_definition(text))
        return run_artifact(
            artifact,
            inputs=merge_inputs(artifact, overrides=inputs),
            environment={"base_url": target.base_url, **(environment or {})},
            secrets=secrets or {},
            options=options,
            **kwargs,
        )

    return run
