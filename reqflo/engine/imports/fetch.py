"""Fetch an import source from a URL: http(s) only, bounded in size, time and redirects.

The CLI fetches with a plain transport; the web app passes the Cloud Runner's egress transport,
so a URL typed into the import page reaches only what a cloud run may reach.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from reqflo.engine.imports.report import SourceError
from reqflo.engine.imports.source import MAX_SOURCE_BYTES

FETCH_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5


def fetch_source(url: str, *, transport: httpx.BaseTransport | None = None) -> bytes:
    """GET `url` and return its body; raise SourceError naming the URL and what went wrong.

    A declared `Content-Length` above MAX_SOURCE_BYTES is refused before the body is read; a
    body that grows past it is cut off and refused.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"'{url[:80]}' is not an http:// or https:// URL; nothing was fetched")
    try:
        with (
            httpx.Client(
                timeout=FETCH_TIMEOUT_S,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                transport=transport,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise SourceError(f"GET {url} answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_SOURCE_BYTES:
                raise SourceError(
                    f"{url} is {int(declared)} bytes; the import limit is {MAX_SOURCE_BYTES} bytes"
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_SOURCE_BYTES:
                    raise SourceError(
                        f"{url} is larger than the import limit of {MAX_SOURCE_BYTES} bytes"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {exc}") from None
