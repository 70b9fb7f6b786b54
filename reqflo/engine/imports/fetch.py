"""Fetch an import source from a URL: http(s) only, bounded in size, time and redirects.

The CLI fetches with a plain transport; the web app passes the Cloud Runner's egress transport,
so a URL typed into the import page reaches only what a cloud run may reach.

Time is bounded twice: httpx's timeouts bound each connect and read (`FETCH_TIMEOUT_S`), and
`FETCH_DEADLINE_S` bounds the whole fetch, redirects and body included, so a server that drips a
byte just inside each read timeout cannot hold an import (or a web worker) for ever.
"""

from __future__ import annotations

import contextlib
import threading
import time
from urllib.parse import urlsplit

import httpx

from reqflo.engine.imports.report import SourceError
from reqflo.engine.imports.source import MAX_SOURCE_BYTES

FETCH_TIMEOUT_S = 30.0
FETCH_DEADLINE_S = 30.0
MAX_REDIRECTS = 5


def fetch_source(
    url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    deadline_s: float = FETCH_DEADLINE_S,
) -> bytes:
    """GET `url` and return its body; raise SourceError naming the URL and what went wrong.

    A declared `Content-Length` above MAX_SOURCE_BYTES is refused before the body is read; a
    body that grows past it is cut off and refused. The whole fetch must end within
    `deadline_s` seconds (30 by default), else SourceError "cannot fetch URL: no complete
    answer within 30 s"; the connection is then closed.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"'{url[:80]}' is not an http:// or https:// URL; nothing was fetched")
    fetch = _Fetch(url, transport, time.monotonic() + deadline_s)
    worker = threading.Thread(target=fetch.run, name="reqflo-import-fetch", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive() or fetch.late:
        fetch.abandon()
        raise SourceError(f"cannot fetch {url}: no complete answer within {deadline_s:g} s")
    if fetch.error is not None:
        raise fetch.error
    return fetch.body


class _Fetch:
    """One GET run on a worker thread, so the caller can stop waiting at the deadline; the
    worker also checks the deadline between chunks and stops on its own."""

    def __init__(self, url: str, transport: httpx.BaseTransport | None, deadline: float) -> None:
        self.url, self.transport, self.deadline = url, transport, deadline
        self.body = b""
        self.error: SourceError | None = None
        self.late = False
        self.response: httpx.Response | None = None

    def run(self) -> None:
        try:
            self.body = self._get()
        except SourceError as exc:
            self.error = exc
        except httpx.HTTPError as exc:
            self.error = SourceError(f"cannot fetch {self.url}: {exc}")
        except (OSError, RuntimeError, ValueError) as exc:  # closed under us at the deadline
            self.error = SourceError(f"cannot fetch {self.url}: {type(exc).__name__}")

    def abandon(self) -> None:
        """Close the connection of a fetch past its deadline (the worker then ends)."""
        response = self.response
        if response is not None:
            with contextlib.suppress(Exception):  # from another thread: best effort
                response.close()

    def _get(self) -> bytes:
        url = self.url
        with (
            httpx.Client(
                timeout=FETCH_TIMEOUT_S,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                transport=self.transport,
            ) as client,
            client.stream("GET", url) as response,
        ):
            self.response = response
            if response.status_code != 200:
                raise SourceError(f"GET {url} answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_SOURCE_BYTES:
                raise SourceError(
                    f"{url} is {int(declared)} bytes; the import limit is {MAX_SOURCE_BYTES} bytes"
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                if time.monotonic() > self.deadline:
                    self.late = True
                    return b""
                size += len(chunk)
                if size > MAX_SOURCE_BYTES:
                    raise SourceError(
                        f"{url} is larger than the import limit of {MAX_SOURCE_BYTES} bytes"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
