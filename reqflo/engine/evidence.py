"""Evidence records of an attempt, with sensitive headers masked and secrets redacted."""

from __future__ import annotations

import httpx

from reqflo.engine.http import Exchange, decode_text, join_headers
from reqflo.engine.redact import REDACTED, SENSITIVE_HEADERS, Redactor
from reqflo.engine.results import RequestRecord, ResponseRecord, StepResult


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SENSITIVE_HEADERS else v for k, v in headers.items()}


def request_record(request: httpx.Request, content: bytes, limit: int) -> RequestRecord:
    text = (
        decode_text(content[:limit], "utf-8", final=len(content) <= limit)[0] if content else None
    )
    return RequestRecord(
        method=request.method,
        url=str(request.url),
        headers=mask_headers(join_headers(request.headers)),
        body=text,
        body_size=len(content),
    )


def response_record(exchange: Exchange, limit: int) -> ResponseRecord:
    truncated = exchange.body_size > limit
    preview = exchange.body[:limit] if len(exchange.body) > limit else exchange.body
    text, encoding = decode_text(preview, exchange.charset, final=not truncated)
    return ResponseRecord(
        status=exchange.status,
        reason=exchange.reason,
        http_version=exchange.http_version,
        headers=mask_headers(exchange.header_map()),
        body=text if exchange.body_size else None,
        body_size=exchange.body_size,
        body_truncated=truncated,
        elapsed_ms=exchange.elapsed_ms,
        redirects=exchange.redirects,
        body_encoding=encoding if exchange.body_size else None,
    )


def redact_step(result: StepResult, redactor: Redactor) -> None:
    """Mask every registered secret in every string of a step result, in place."""
    if not redactor:
        return
    redact = redactor.redact
    result.outputs = redactor.redact_obj(result.outputs)
    result.logs = [redact(line) for line in result.logs]
    for attempt in result.attempts:
        if attempt.request:
            attempt.request.url = redact(attempt.request.url)
            attempt.request.headers = redactor.headers(attempt.request.headers)
            attempt.request.body = redact(attempt.request.body) if attempt.request.body else None
        if attempt.response:
            response = attempt.response
            response.headers = redactor.headers(response.headers)
            response.body = redact(response.body) if response.body else None
            for hop in response.redirects:
                hop["url"] = redact(hop["url"])
                hop["location"] = redact(hop["location"])
        if attempt.error:
            attempt.error.message = redact(attempt.error.message)
        for assertion in attempt.assertions:
            assertion.expected = redactor.redact_obj(assertion.expected)
            assertion.actual = redactor.redact_obj(assertion.actual)
            assertion.message = redact(assertion.message)
