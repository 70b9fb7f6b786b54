"""One loopback HTTP server for every test that needs a target: a handler on 127.0.0.1.

``LoopbackServer(handler)`` binds a free port (``.url``); ``serving(server)`` runs it in a
background thread and always stops it. The ``loopback`` fixture (tests/conftest.py) does both
for one test::

    def test_it(loopback):
        server = loopback(MyHandler)
        httpx.get(server.url + "/ping")

A server with state of its own subclasses ``LoopbackServer`` (the CLI's echo and demo shop do).
``self_signed(folder, name)`` makes a certificate for HTTPS servers (``wrap_tls``).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 (port 0: a free one)."""

    daemon_threads = True
    # The default backlog of 5 drops connections when a test opens many at once.
    request_queue_size = 128
    # Tests that drop connections or send TLS to plain HTTP on purpose want no tracebacks.
    quiet = False

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)

    scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet:
            super().handle_error(request, client_address)


Server = TypeVar("Server", bound=LoopbackServer)


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve ``server`` in a background thread until the block ends, then close it."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def self_signed(
    folder: Path, name: str, *, address: str | None = "127.0.0.1"
) -> tuple[ssl.SSLContext, Path]:
    """Return a server TLS context for `name` (and `address`) and its certificate's PEM file.

    The certificate signs itself: a client trusts it only when given that file.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    if address is not None:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def wrap_tls(server: LoopbackServer, context: ssl.SSLContext) -> LoopbackServer:
    """Make `server` speak HTTPS with `context` (before it starts serving); its url too."""
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.scheme = "https"
    return server
