"""Fixtures for CLI tests: real loopback servers, a project folder, and ways to run `reqflo`."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from reqflo.cli.main import main
from reqflo.cli.run import Streams
from tests.cli.demo_shop_server import DemoShopServer, running_demo_shop
from tests.loopback import LoopbackServer, serving

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
REQFLO = Path(sys.executable).parent / "reqflo"


@dataclass
class Result:
    """What one `reqflo` invocation did."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session")
def shop() -> Iterator[DemoShopServer]:
    with running_demo_shop() as server:
        yield server


class EchoServer(LoopbackServer):
    """Echo requests back and count how many were in flight at once."""

    def __init__(self) -> None:
        super().__init__(EchoHandler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: set[tuple[str, int]] = set()  # one per TCP connection


class EchoHandler(BaseHTTPRequestHandler):
    """Answer every request with JSON describing it.

    `?sleep_ms=N` delays the answer; `?set_cookie=V` sets the cookie `echo=V`.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: EchoServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""

    def do_GET(self) -> None:
        self._echo()

    def do_POST(self) -> None:
        self._echo()

    def _echo(self) -> None:
        with self.server.lock:
            self.server.peers.add(self.client_address)
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            self._answer()
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
        if "sleep_ms" in query:
            time.sleep(int(query["sleep_ms"]) / 1000)
        payload = json.dumps(
            {"path": self.path, "query": query, "headers": dict(self.headers), "body": body}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if "set_cookie" in query:
            self.send_header("Set-Cookie", f"echo={query['set_cookie']}; Path=/")
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with serving(EchoServer()) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, shop: DemoShopServer) -> Path:
    """Copy examples/ into a temporary folder whose `demo` environment is the loopback shop."""
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLES, folder)
    config = yaml.safe_load((folder / "reqflo.yaml").read_text())
    config["environments"]["demo"]["base_url"] = shop.base_url
    (folder / "reqflo.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def run_in_process(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Result:
    """Call `main(argv)` with captured streams, as the console script would."""
    stdout, stderr = io.StringIO(), io.StringIO()
    streams = Streams(stdout=stdout, stderr=stderr, environ=dict(env or {}), cwd=cwd or Path.cwd())
    code = main([str(arg) for arg in args], streams)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def run_subprocess(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Result:
    """Run the installed `reqflo` console script as a real process."""
    # Nothing of the test's own environment decides for the CLI: no REQFLO_ settings, and no
    # `CI` (a CI machine's CI=true would turn its cloud runs' trigger from "cli" into "ci").
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REQFLO_") and key != "CI"
    }
    environ.update(env or {})
    completed = subprocess.run(
        [str(REQFLO), *map(str, args)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def write_journey(folder: Path, name: str, document: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({"journey": document}, sort_keys=False))
    return path
