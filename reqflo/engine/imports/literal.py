"""Steps from literal requests (curl commands, HAR entries): shared by both converters.

The origin most requests share becomes `env.base_url`. Headers a client sets itself are left
out (reported once); cookies and credential headers are left out unless the user asks to keep
them, and then only as secret references: a captured token never lands in a journey.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from reqflo.engine.imports.builder import JourneyBuilder, map_strings
from reqflo.engine.imports.credentials import mask
from reqflo.engine.imports.report import ImportResult
from reqflo.engine.imports.source import looks_like_credential, reference_name
from reqflo.engine.journey_schema import METHODS
from reqflo.engine.redaction import SENSITIVE_HEADERS

# A bare `{{name}}`: no kind (`inputs.`, `env.` …), no `$` function.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")
_CLIENT_HEADERS = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


@dataclass
class LiteralRequest:
    """One request as sent: `headers` in order (repeats allowed), `body` as text or None."""

    location: str
    name: str
    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    status: int | None = None
    # Credentials the source spelled out other than in a header value (curl's `-u user:pw`).
    credentials: list[str] = field(default_factory=list)
    # False: the source does not follow redirects (curl without -L; a 3xx HAR entry).
    follow_redirects: bool = True


def build_journey(
    requests: list[LiteralRequest],
    *,
    name: str,
    source: str,
    result: ImportResult,
    include_sensitive: bool,
) -> None:
    """Add one journey of `requests` (and the base_url environment) to `result`."""
    _strip_userinfo(requests, result)
    origins = Counter(_origin(r.url) for r in requests if _origin(r.url))
    origin = origins.most_common(1)[0][0] if origins else None
    if origin:
        result.environments.setdefault("default", {})["base_url"] = origin
    builder = JourneyBuilder(name=name, source=source)
    dropped: dict[str, None] = {}
    secrets: dict[str, str] = {}
    for request in requests:
        if request.method not in METHODS:
            result.add(request.location, f"method {request.method} is not supported; left out")
            continue
        name = mask(request.name)  # a token in a URL path must not reach the step's id
        step: dict[str, Any] = {"id": builder.step_id(name), "name": name}
        step["request"] = _request(request, origin, include_sensitive, dropped, secrets, result)
        step["request"] = _placeholders(step["request"], builder, request.location, result)
        if request.status:
            step["assertions"] = [{"type": "status_code", "expected": request.status}]
            if 300 <= request.status < 400:
                request.follow_redirects = False
        if not request.follow_redirects:
            step["follow_redirects"] = False
        builder.add_step(step, location=request.location)
    if dropped:
        result.add(
            source,
            f"headers the HTTP client sets itself were left out: {', '.join(dropped)}",
            "changed",
        )
    built = builder.build(result, taken_slugs=set())
    if built is not None:
        result.journeys.append(built)
    result.redact(
        [value for request in requests for _, value in _sensitive_headers(request)]
        + [value for request in requests for value in request.credentials]
    )


def _placeholders(
    request: dict[str, Any], builder: JourneyBuilder, location: str, result: ImportResult
) -> dict[str, Any]:
    """Make each bare `{{name}}` (Postman's code generator writes them into curl commands) an
    input; the builder makes one with a credential's name a secret (docs/imports.md, rule 3)."""

    def replace(match: re.Match[str]) -> str:
        name = reference_name(match.group(1))
        builder.add_input(name, description=f"was the placeholder {{{{{match.group(1)}}}}}")
        if not looks_like_credential(name):  # else the builder reports the secret
            result.add(
                location, f"placeholder {{{{{match.group(1)}}}}} became input '{name}'", "note"
            )
        return "{{ inputs." + name + " }}"

    return cast(
        "dict[str, Any]",
        map_strings(request, lambda text: _PLACEHOLDER.sub(replace, text)),
    )


def _sensitive(name: str) -> bool:
    lower = name.lower()
    return lower in SENSITIVE_HEADERS or lower == "cookie" or looks_like_credential(name)


def _sensitive_headers(request: LiteralRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.headers if _sensitive(name)]


def _strip_userinfo(requests: list[LiteralRequest], result: ImportResult) -> None:
    """Drop `user:password@` from URLs: a credential in a URL would land in the journey."""
    for request in requests:
        parts = urlsplit(request.url)
        if "@" in parts.netloc:
            userinfo, _, host = parts.netloc.rpartition("@")
            request.credentials.append(userinfo)
            request.url = parts._replace(netloc=host).geturl()
            result.add(
                request.location,
                "the user and password in the URL were left out; send them as a header",
            )


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _request(
    request: LiteralRequest,
    origin: str | None,
    include_sensitive: bool,
    dropped: dict[str, None],
    secrets: dict[str, str],
    result: ImportResult,
) -> dict[str, Any]:
    parts = urlsplit(request.url)
    url = parts._replace(query="", fragment="").geturl()
    if origin and _origin(request.url) == origin:
        url = "{{ env.base_url }}" + (parts.path or "")
    out: dict[str, Any] = {"method": request.method, "url": url}
    query: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if looks_like_credential(key) and value:
            request.credentials.append(value)
            where = f"{request.location} › query {key}"
            if not include_sensitive:
                result.add(where, "left out (credentials are imported only when asked)")
                continue
            secret = secrets.setdefault(value, _secret_name(key, secrets))
            result.add_secret(secret, location=where, reason=f"query parameter {key}")
            value = "{{ secrets." + secret + " }}"
        previous = query.get(key)
        query[key] = value if previous is None else [*_as_list(previous), value]
    if query:
        out["query"] = query
    headers: dict[str, str] = {}
    for name, value in request.headers:
        lower = name.lower()
        if name.startswith(":") or lower in _CLIENT_HEADERS:
            dropped[name.lstrip(":").title() if name.startswith(":") else name] = None
        elif _sensitive(name):
            if not include_sensitive:
                result.add(
                    f"{request.location} › header {name}",
                    "left out (credentials and cookies are imported only when asked)",
                )
                continue
            secret = secrets.setdefault(value, _secret_name(name, secrets))
            result.add_secret(
                secret, location=f"{request.location} › header {name}", reason=f"header {name}"
            )
            headers[name] = "{{ secrets." + secret + " }}"
        else:
            headers[name] = value
    _body(request, headers, out, result)
    if headers:
        out["headers"] = headers
    return out


def _secret_name(header: str, taken: dict[str, str]) -> str:
    base = reference_name(header.lower())
    name, number = base, 2
    while name in taken.values():
        name = f"{base}_{number}"
        number += 1
    return name


def _body(
    request: LiteralRequest, headers: dict[str, str], out: dict[str, Any], result: ImportResult
) -> None:
    if request.body is None or request.body == "":
        return
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in content_type:
        try:
            out["json"] = json.loads(request.body)
        except ValueError:
            out["body"] = request.body
            result.add(request.location, "the body is not valid JSON; sent as text", "changed")
            return
        for key in [k for k in headers if k.lower() == "content-type"]:
            if headers[key].split(";")[0].strip() == "application/json":
                del headers[key]  # `json:` sets it
        return
    if "x-www-form-urlencoded" in content_type:
        out["form"] = dict(parse_qsl(request.body, keep_blank_values=True))
        for key in [k for k in headers if k.lower() == "content-type"]:
            del headers[key]
        return
    out["body"] = request.body


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
