"""One loopback HTTP server for every test that needs a target: a handler on 127.0.0.1.

``LoopbackServer(handler)`` binds a free port (``.url``); ``serving(server)`` runs it in a
background thread and always stops it. The ``loopback`` fixture (tests/conftest.py) does both
for one test::

    def test_it(loopback):
        server = loopback(MyHandler)
        httpx.get(server.url + "/ping")

A server with state of its own subclasses ``LoopbackServer`` (the CLI's echo and demo shop do).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

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
