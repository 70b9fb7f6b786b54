"""Evidence records of an attempt, with sensitive headers masked and secrets redacted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from reqflo.engine.http import Exchange, decode_text
from reqflo.engine.redaction import REDACTED, SENSITIVE_HEADERS, Redactor, trim_cut
from reqflo.engine.results import RequestRecord, ResponseRecord, StepResult


def recorded_headers(headers: httpx.Headers) -> dict[str, str]:
    """Return headers as evidence: original name case, repeats joined, sensitive ones masked.

    Masked by name while decoding: a sensitive value is never even joined into a string.
    """
    recorded: dict[str, str] = {}
    encoding = headers.encoding
    # `headers.raw` is a list built from this one: (name, its ASCII lower case, value).
    for raw_name, _, raw_value in headers._list:
        name = raw_name.decode(encoding)
        if name.lower() in SENSITIVE_HEADERS:
            recorded[name] = REDACTED
        elif name in recorded:
            recorded[name] = f"{recorded[name]}, {raw_value.decode(encoding)}"
        else:
            recorded[name] = raw_value.decode(encoding)
    return recorded


def request_record(request: httpx.Request, content: bytes, limit: int) -> RequestRecord:
    cut = len(content) > limit
    text = decode_text(content[:limit], "utf-8", final=not cut)[0] if content else None
    if text and cut:
        text = trim_cut(text)  # no escape split at the evidence limit
    return RequestRecord(
        method=request.method,
        url=str(request.url),
        headers=recorded_headers(request.headers),
        body=text,
        body_size=len(content),
    )


def response_record(exchange: Exchange, limit: int) -> ResponseRecord:
    truncated = exchange.body_size > limit
    preview = exchange.body[:limit] if len(exchange.body) > limit else exchange.body
    text, encoding = decode_text(preview, exchange.charset, final=not truncated)
    if truncated:
        text = trim_cut(text)  # no escape split at the evidence limit
    return ResponseRecord(
        status=exchange.status,
        reason=exchange.reason,
        http_version=exchange.http_version,
        headers=recorded_headers(exchange.headers),
        body=text if exchange.body_size else None,
        body_size=exchange.body_size,
        body_truncated=truncated,
        elapsed_ms=exchange.elapsed_ms,
        redirects=exchange.redirects,
        body_encoding=encoding if exchange.body_size else None,
    )


def _collect(data: Any, into: list[str]) -> None:
    """Append every string of plain data, mapping keys and number texts included."""
    kind = type(data)
    if kind is str:
        into.append(data)
    elif kind is dict:
        for key, value in data.items():
            into.append(key if type(key) is str else str(key))
            if type(value) is str:  # the common leaf, without a recursive call
                into.append(value)
            else:
                _collect(value, into)
    elif kind is list or kind is tuple:
        for item in data:
            _collect(item, into)
    elif kind is int or kind is float or isinstance(data, str | Decimal):
        into.append(str(data))
    elif isinstance(data, dict | list | tuple | int | float) and not isinstance(data, bool):
        _collect(_plain(data), into)


def _plain(data: Any) -> Any:
    """Return subclasses of the JSON types (str enums, OrderedDict...) as the base types."""
    if isinstance(data, dict):
        return dict(data)
    if isinstance(data, list | tuple):
        return list(data)
    return float(data) if isinstance(data, float) else int(data)


def _step_strings(result: StepResult) -> list[str]:
    texts: list[str] = [*result.logs]
    if result.outputs:
        _collect(result.outputs, texts)
    for attempt in result.attempts:
        if attempt.request:
            texts.append(attempt.request.url)
            texts.extend(attempt.request.headers.values())
            texts.append(attempt.request.body or "")
        if attempt.response:
            texts.extend(attempt.response.headers.values())
            texts.append(attempt.response.body or "")
            for hop in attempt.response.redirects:
                texts.append(hop["url"])
                texts.append(hop["location"])
        if attempt.error:
            texts.append(attempt.error.message)
        for assertion in attempt.assertions:
            texts.append(assertion.message)
            for value in (assertion.expected, assertion.actual):
                kind = type(value)
                if kind is str:  # the common cases, without a call
                    texts.append(value)
                elif kind is int or kind is float or kind is Decimal:
                    texts.append(str(value))
                elif value is not None and kind is not bool:
                    _collect(value, texts)
    return texts


def _cut_texts(result: StepResult) -> list[str]:
    """Return the bodies that were cut at the evidence limit (a secret may straddle the cut)."""
    cut: list[str] = []
    for attempt in result.attempts:
        if attempt.request and attempt.request.body and _request_cut(attempt.request):
            cut.append(attempt.request.body)
        if attempt.response and attempt.response.body and attempt.response.body_truncated:
            cut.append(attempt.response.body)
    return cut


def _request_cut(request: RequestRecord) -> bool:
    return request.body is not None and len(request.body.encode()) < request.body_size


def redact_step(result: StepResult, redactor: Redactor) -> bool:
    """Mask every registered secret in every string of a step result, in place.

    Bodies cut at the evidence limit, and values cut with "…", also lose the first characters
    of a secret that the cut went through. Returns whether a secret occurred (the result
    changed); False leaves it untouched.
    """
    # One scan decides: most steps hold no secret beyond the headers already masked by name.
    # Where one does, the same scan names the strings that hold nothing (most of them).
    if not redactor:
        return False
    scan = redactor.step_scan(_step_strings(result), _cut_texts(result))
    if scan is None:
        return False
    with scan:
        _redact_fields(result, redactor)
    return True


def _redact_fields(result: StepResult, redactor: Redactor) -> None:
    """Mask every registered secret in every string of a step result, in place."""
    redact = redactor.redact
    result.outputs = redactor.redact_obj(result.outputs, cut="marks")
    result.logs = [redact(line) for line in result.logs]
    for attempt in result.attempts:
        if attempt.request:
            request = attempt.request
            request.url = redact(request.url)
            request.headers = redactor.headers(request.headers)
            if request.body:
                request.body = redact(request.body, cut="end" if _request_cut(request) else None)
        if attempt.response:
            response = attempt.response
            response.headers = redactor.headers(response.headers)
            if response.body:
                response.body = redact(
                    response.body, cut="end" if response.body_truncated else None
                )
            for hop in response.redirects:
                hop["url"] = redact(hop["url"])
                hop["location"] = redact(hop["location"])
        if attempt.error:
            attempt.error.message = redact(attempt.error.message)
        for assertion in attempt.assertions:
            assertion.expected = redactor.redact_obj(assertion.expected, cut="marks")
            assertion.actual = redactor.redact_obj(assertion.actual, cut="marks")
            assertion.message = redact(assertion.message, cut="marks")
