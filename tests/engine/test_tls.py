"""TLS contexts load their trusted CAs at the first handshake, never before, and fail closed.

A real HTTPS server on loopback with a self-signed certificate stands in for a target: no client
trusts it unless told to with its PEM file.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from reqflo.engine.http import classify
from reqflo.engine.tls import DeferredTrustContext, ssl_context
from tests.loopback import LoopbackServer, self_signed, serving, wrap_tls


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    return self_signed(tmp_path, "localhost")


@pytest.fixture
def https(certificate: tuple[ssl.SSLContext, Path]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(Hello)
    server.quiet = True  # refused handshakes are the point of some tests
    with serving(wrap_tls(server, certificate[0])) as running:
        yield running


@pytest.fixture
def http() -> Iterator[LoopbackServer]:
    with serving(LoopbackServer(Hello)) as server:
        yield server


class CountingLoader:
    """Load the self-signed certificate into a context and count how often it was asked."""

    def __init__(self, cert_file: Path) -> None:
        self.cert_file = cert_file
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, context: ssl.SSLContext) -> None:
        with self.lock:
            self.calls += 1
        context.load_verify_locations(cafile=self.cert_file)


def test_plain_http_never_loads_the_ca_certificates(
    http: LoopbackServer, certificate: tuple[ssl.SSLContext, Path]
) -> None:
    loader = CountingLoader(certificate[1])
    with httpx.Client(verify=DeferredTrustContext(loader)) as client:
        responses = [client.get(f"{http.url}/{n}") for n in range(3)]

    assert [r.text for r in responses] == ["hello"] * 3
    assert loader.calls == 0


def test_the_first_handshakes_load_the_certificates_once_across_threads(
    https: LoopbackServer, certificate: tuple[ssl.SSLContext, Path]
) -> None:
    loader = CountingLoader(certificate[1])
    limits = httpx.Limits(max_keepalive_connections=0)  # a new handshake for every request
    with (
        httpx.Client(verify=DeferredTrustContext(loader), limits=limits) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        texts = list(pool.map(lambda n: client.get(f"{https.url}/{n}").text, range(16)))

    assert texts == ["hello"] * 16
    assert loader.calls == 1


def test_a_deferred_context_verifies_as_strictly_as_a_default_one(tmp_path: Path) -> None:
    # Trusted, but issued to another name than the address the client asks for.
    server_context, cert_file = self_signed(tmp_path, "other.test", address=None)
    context = DeferredTrustContext(CountingLoader(cert_file))
    default = ssl.create_default_context()
    server = LoopbackServer(Hello)
    server.quiet = True

    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert (context.options, context.minimum_version) == (default.options, default.minimum_version)
    with (
        serving(wrap_tls(server, server_context)),
        httpx.Client(verify=context) as client,
        pytest.raises(httpx.ConnectError) as refused,
    ):
        client.get(f"{server.url}/")
    assert "IP address mismatch" in str(refused.value)


def test_the_engine_context_refuses_an_untrusted_certificate(https: LoopbackServer) -> None:
    with httpx.Client(verify=ssl_context(True)) as client, pytest.raises(httpx.ConnectError) as no:
        client.get(f"{https.url}/")

    assert classify(no.value, reading=False, timeout_ms=1000).kind == "tls"
    assert "certificate verify failed" in str(no.value)


def test_verify_false_still_talks_to_an_untrusted_server(https: LoopbackServer) -> None:
    with httpx.Client(verify=ssl_context(False)) as client:
        assert client.get(f"{https.url}/").text == "hello"
