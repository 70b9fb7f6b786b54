"""`make run` itself, on both paths: the embedded default and PostgreSQL (DATABASE_URL set).

With DATABASE_URL set the app serves static files from WhiteNoise's hashed manifest, so a
`make run` that skipped collectstatic answered every page with a 500 ("Missing staticfiles
manifest entry"). Each path here starts the real `make run`, loads the login page and the
stylesheet it links, then stops it as Ctrl-C does.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.test_smoke_embedded import PRODUCTION_VARIABLES

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the tests' server; dropped afterwards."""
    server = os.environ.get("DATABASE_URL", "")
    assert server.startswith("postgres"), "set DATABASE_URL to the tests' PostgreSQL server"
    name = f"reqflo_make_run_{secrets.token_hex(4)}"
    admin = server.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _make_run(env: dict[str, str], port: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    # Run under `make test`, the environment holds the outer make's exported REQFLO_BIND
    # (port 8000), which `make run PORT=…` would keep: name the address outright.
    env = {k: v for k, v in env.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"REQFLO_BIND=127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.5)
    try:
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches make and the supervisor
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    env["REQFLO_VAR_DIR"] = str(tmp_path / "var")
    return env


def _serves_pages_and_styles(base: str, proc: subprocess.Popen[str]) -> None:
    page = httpx.get(base + "/", follow_redirects=True, timeout=15)
    output = "" if proc.poll() is None or proc.stdout is None else proc.stdout.read()
    assert page.status_code == 200, output[-3000:]
    assert 'type="password"' in page.text
    stylesheet = re.search(r'href="(/static/css/app[^"]*\.css)"', page.text)
    assert stylesheet, page.text[:2000]
    css = httpx.get(base + stylesheet[1], timeout=15)
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_make_run_on_postgresql_serves_pages_with_their_static_files(
    tmp_path: Path, postgres_database: str
) -> None:
    env = _base_env(tmp_path)
    env.update(
        DATABASE_URL=postgres_database,
        SECRET_KEY=secrets.token_urlsafe(40),
        REQFLO_SECRETS_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
    )
    with _make_run(env, _free_port()) as (base, proc):
        _serves_pages_and_styles(base, proc)
        # Production mode: the stylesheet is the hashed, collected one.
        page = httpx.get(base + "/", follow_redirects=True, timeout=15).text
        assert re.search(r"/static/css/app\.[0-9a-f]{12}\.css", page)
    assert (tmp_path / "var" / "staticfiles" / "staticfiles.json").exists()


def test_make_run_on_the_embedded_default_serves_pages_with_their_static_files(
    tmp_path: Path,
) -> None:
    with _make_run(_base_env(tmp_path), _free_port()) as (base, proc):
        _serves_pages_and_styles(base, proc)
