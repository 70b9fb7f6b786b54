"""Serve one large JSON document at `/blob.json`, for the response-size benchmark.

.venv/bin/python -m bench.blob_server --size-mb 50    # prints its base URL, then serves
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def make_blob(size_mb: float) -> bytes:
    """Return a JSON object of about `size_mb` MiB: a list of small order records."""
    record = {"id": 0, "sku": "tea-01", "note": "x" * 60}
    one = len(json.dumps(record)) + 2
    count = int(size_mb * 1024 * 1024 / one)
    items = ",".join(json.dumps({"id": i, "sku": "tea-01", "note": "x" * 60}) for i in range(count))
    return f'{{"count": {count}, "items": [{items}]}}'.encode()


class BlobHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    blob = b""

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.blob)))
        self.end_headers()
        view = memoryview(self.blob)
        for start in range(0, len(view), 1 << 20):
            self.wfile.write(view[start : start + (1 << 20)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=50)
    args = parser.parse_args()
    BlobHandler.blob = make_blob(args.size_mb)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BlobHandler)
    print(f"http://127.0.0.1:{server.server_address[1]} {len(BlobHandler.blob)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
