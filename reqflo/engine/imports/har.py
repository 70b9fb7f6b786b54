"""HAR 1.2 (a browser's "Save all as HAR") to one journey, a step per entry, in order.

Each step asserts the status the browser saw; a 3xx entry does not follow the redirect (the
next entry is the request the browser made next). Static assets (images, fonts, scripts,
stylesheets) are left out unless asked, and reported.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from reqflo.engine.imports.literal import LiteralRequest, build_journey
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import load_json

_ASSETS = ("image/", "font/", "text/css", "javascript", "application/wasm", "video/", "audio/")


def import_har(
    source: bytes | str,
    *,
    name: str = "Imported from HAR",
    include_sensitive: bool = False,
    include_assets: bool = False,
) -> ImportResult:
    """Convert a HAR file; raise SourceError when it is not one."""
    har = load_json(source, what="the HAR file")
    log = har.get("log") if isinstance(har, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise SourceError("not a HAR file: there is no 'log.entries' list")
    result = ImportResult(kind="HAR")
    requests: list[LiteralRequest] = []
    assets = 0
    for index, entry in enumerate(log["entries"]):
        where = f"entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not request.get("url"):
            result.add(where, "has no request URL; left out")
            continue
        response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
        mime = str((response.get("content") or {}).get("mimeType") or "")
        if not include_assets and any(kind in mime for kind in _ASSETS):
            assets += 1
            continue
        url = str(request["url"])
        if urlsplit(url).scheme not in ("http", "https"):
            result.add(where, f"'{url[:60]}' is not an http(s) URL; left out")
            continue
        method = str(request.get("method") or "GET").upper()
        headers = [
            (str(h.get("name")), str(h.get("value", "")))
            for h in request.get("headers") or []
            if isinstance(h, dict) and h.get("name")
        ]
        status = response.get("status")
        if not (isinstance(status, int) and 100 <= status <= 599):
            shown = status if isinstance(status, int) and not isinstance(status, bool) else "none"
            result.add(
                where,
                f"response status {shown}: the browser got no HTTP response (blocked, cancelled "
                "or failed); the step has no status assertion",
                "changed",
            )
        requests.append(
            LiteralRequest(
                where,
                f"{method} {urlsplit(url).path or '/'}",
                method,
                url,
                headers,
                _body(request.get("postData"), where, result),
                status if isinstance(status, int) and 100 <= status <= 599 else None,
            )
        )
    if assets:
        result.add(
            "entries",
            f"{assets} static asset request(s) (images, scripts, styles, fonts) "
            "left out; import them with include_assets",
        )
    build_journey(
        requests, name=name, source="HAR", result=result, include_sensitive=include_sensitive
    )
    result.finish()
    return result


def _body(post: Any, where: str, result: ImportResult) -> str | None:
    if not isinstance(post, dict):
        return None
    if isinstance(post.get("text"), str):
        return str(post["text"])
    params = post.get("params")
    if isinstance(params, list) and params:
        if any(isinstance(p, dict) and p.get("fileName") for p in params):
            result.add(where, "file upload fields are not supported; the body is left out")
            return None
        from urllib.parse import urlencode

        return urlencode(
            [(p.get("name", ""), p.get("value", "")) for p in params if isinstance(p, dict)]
        )
    return None
