"""A real httpbin (the `httpbin` package, a Flask app) served on 127.0.0.1 in a thread.

Imported journeys run against it: the collections and specs under tests/data/imports/ call
httpbin-style endpoints (postman-echo.com is httpbin's sibling).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def running_httpbin() -> Iterator[str]:
    """Serve httpbin on a free loopback port and yield its base URL."""
    from httpbin import app  # imported here: Flask and flasgger load only for these tests

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
