"""The demo shop keeps its carts where every gunicorn worker process sees them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_checkout_works_across_several_gunicorn_workers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reqflo.test_settings",
        "REQFLO_VAR_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "reqflo.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/demo-shop/api"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/products", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        for _ in range(8):
            # A fresh connection per request lets the kernel hand each one to any worker.
            token = httpx.post(base + "/login", json={"email": "w@demo.test", "password": "x"})
            auth = {"Authorization": f"Bearer {token.json()['token']}"}
            cart = httpx.post(base + "/carts", headers=auth).json()["id"]
            added = httpx.post(
                f"{base}/carts/{cart}/items", json={"sku": "tea-01", "quantity": 1}, headers=auth
            )
            assert added.status_code == 201, added.text
            order = httpx.post(f"{base}/carts/{cart}/checkout", headers=auth).json()["order_id"]
            fetched = httpx.get(f"{base}/orders/{order}", headers=auth)
            assert fetched.json()["status"] == "paid"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
