"""Render a step's request from its prepared values: URL, query, headers and body."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import httpx

from reqflo.engine import numbers
from reqflo.engine.http import classify
from reqflo.engine.prepare import PreparedStep
from reqflo.engine.results import StepError
from reqflo.engine.state import RunState
from reqflo.engine.values import ResolutionError, to_text


class BuildError(Exception):
    """The request cannot be built; `error` is the StepError to record."""

    def __init__(self, error: StepError) -> None:
        super().__init__(error.message)
        self.error = error


def build_request(
    state: RunState, step: PreparedStep, timeout_ms: float
) -> tuple[httpx.Request, bytes]:
    """Render the step's request; raise BuildError for a reference or an unsendable value."""
    try:
        url, _ = step.url.render(state)
        headers = {name: to_text(value.render(state)[0]) for name, value in step.headers}
        params: list[tuple[str, str | int | float | bool | None]] = []
        for name, value in step.query:
            rendered, _ = value.render(state)
            items = rendered if isinstance(rendered, list) else [rendered]
            params.extend((name, to_text(item)) for item in items)
        content = b""
        if step.body is not None:
            body, _ = step.body.render(state)
            content = _encode_body(step.body_kind, body, headers)
    except ResolutionError as exc:
        raise BuildError(StepError("reference", str(exc))) from None
    if _wants_idempotency_key(state, step) and not any(
        k.lower() == "idempotency-key" for k in headers
    ):
        headers["Idempotency-Key"] = f"{state.run_id}:{step.id}"
    try:
        target = httpx.URL(to_text(url))
        if params:
            # Merge with the URL's own query string; httpx's `params=` would replace it.
            target = target.copy_merge_params(params)
        request = state.client.build_request(
            step.method,
            target,
            # httpx encodes text header values as ASCII; send them as UTF-8 bytes instead.
            headers=[(k.encode(), v.encode()) for k, v in headers.items()],
            content=content or None,
            timeout=_timeout(timeout_ms),
        )
    except Exception as exc:  # bad URL or header text: the user's data, reported not raised
        raise BuildError(classify(exc, reading=False, timeout_ms=timeout_ms)) from None
    return request, content


@lru_cache(maxsize=64)
def _timeout(timeout_ms: float) -> httpx.Timeout:
    """Return one immutable Timeout per value instead of building one per request."""
    return httpx.Timeout(timeout_ms / 1000)


def _encode_body(kind: str | None, body: Any, headers: dict[str, str]) -> bytes:
    has_type = any(k.lower() == "content-type" for k in headers)
    if kind == "json":
        if not has_type:
            headers["Content-Type"] = "application/json"
        return numbers.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if kind == "form":
        if not has_type:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode([(k, to_text(v)) for k, v in body.items()]).encode()
    return to_text(body).encode()


def _wants_idempotency_key(state: RunState, step: PreparedStep) -> bool:
    if state.options.idempotency_keys is not None:
        return state.options.idempotency_keys
    if step.idempotency_key is not None:
        return step.idempotency_key
    return state.plan.idempotency_key
