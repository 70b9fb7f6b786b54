"""Render a step's request from its prepared values: URL, query, headers and body."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import httpx

from reqflo.engine import numbers
from reqflo.engine.http import classify
from reqflo.engine.prepare import PreparedStep, Resolver
from reqflo.engine.redaction import REDACTED
from reqflo.engine.results import StepError
from reqflo.engine.state import RunState
from reqflo.engine.values import Ref, ResolutionError, to_text


class BuildError(Exception):
    """The request cannot be built; `error` is the StepError to record."""

    def __init__(self, error: StepError) -> None:
        super().__init__(error.message)
        self.error = error


def build_request(
    state: RunState, step: PreparedStep, timeout_ms: float
) -> tuple[httpx.Request, bytes, str | None]:
    """Render the step's request; raise BuildError for a reference or an unsendable value.

    Returns the request, its body bytes, and the URL to record when a sensitive value is in
    its URL or query (``masked_url``), else None (record the sent URL).
    """
    recording = _Recording(state)
    try:
        url, _ = step.url.render(recording)
        headers = {name: to_text(value.render(state)[0]) for name, value in step.headers}
        params = _params(step, recording)
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
        target = _target(url, params)
        request = state.client.build_request(
            step.method,
            target,
            # httpx encodes text header values as ASCII; send them as UTF-8 bytes instead.
            headers=[(k.encode(), v.encode()) for k, v in headers.items()],
            content=content or None,
            timeout=_timeout(timeout_ms),
        )
    except Exception as exc:  # bad URL or header text: the user's data, reported not raised
        if recording.sensitive and masked_url(step, recording.values) is not None:
            raise BuildError(_secret_breaks_url(step)) from None
        raise BuildError(classify(exc, reading=False, timeout_ms=timeout_ms)) from None
    return request, content, masked_url(step, recording.values) if recording.sensitive else None


def _secret_breaks_url(step: PreparedStep) -> StepError:
    """The error for a URL that builds with its secrets masked but not with their values.

    The parser's own message would quote a part of the value (httpx: `Invalid port: 'abcd'`
    for a password holding `/` in `user:{{ secrets.pw }}@host`), so it is not used: the
    message names the step and the field, never the value (issue 13).
    """
    return StepError(
        "invalid_request",
        f"step '{step.id}': the request URL (its `url:` with its `query:`) does not parse once "
        "its secret values are filled in: a secret holds characters with a meaning in URLs "
        "(/ ? # @ : [ ] or %). The value is not shown. Pass it in `query:` (encoded for you) "
        "or in a header, or store it percent-encoded.",
    )


Params = list[tuple[str, str | int | float | bool | None]]


def _params(step: PreparedStep, scope: Resolver) -> Params:
    params: Params = []
    for name, value in step.query:
        rendered, _ = value.render(scope)
        items = rendered if isinstance(rendered, list) else [rendered]
        params.extend((name, to_text(item)) for item in items)
    return params


def _target(url: Any, params: Params) -> httpx.URL:
    target = httpx.URL(to_text(url))
    if params:
        # Merge with the URL's own query string; httpx's `params=` would replace it.
        target = target.copy_merge_params(params)
    return target


# Letters, digits and hyphens only: the same in a host, a path and a query, in any encoding step
# httpx applies, and in lower case.
_MARKER = "reqflo-masked-7c1f0d"


class _Recording:
    """Resolves through the run and remembers each (value, sensitive) in order (``Resolver``)."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.values: list[tuple[Any, bool]] = []
        self.sensitive = False

    def resolve(self, ref: Ref) -> tuple[Any, bool]:
        value, sensitive = self.state.resolve(ref)
        self.values.append((value, sensitive))
        self.sensitive = self.sensitive or sensitive
        return value, sensitive

    def taint(self, text: str) -> None:
        self.state.taint(text)


class _Replay:
    """Gives the recorded values again, in order, each sensitive one as the marker."""

    def __init__(self, values: list[tuple[Any, bool]]) -> None:
        self.values = iter(values)

    def resolve(self, ref: Ref) -> tuple[Any, bool]:
        value, sensitive = next(self.values)
        return (_MARKER, True) if sensitive else (value, False)

    def taint(self, text: str) -> None:
        """Nothing to register: the text holds markers, not values."""


def masked_url(step: PreparedStep, values: list[tuple[Any, bool]]) -> str | None:
    """Return the step's URL as built for sending, with ``•••••`` where each secret stands.

    ``values`` are what the URL and query resolved to when the request was built, in order
    (generators are not drawn again). The URL is rendered a second time from them with every
    sensitive value (a secret, a secret input or output) replaced by a marker, through the same
    query merge, so the URL evidence records is masked by construction, whatever the value does
    to the URL once in it: a ``#``, ``?`` or ``&`` in a secret changes where httpx puts the
    query, and no spelling of the value is then left for the redactor to find (issue 13).
    Returns None when the masked URL does not build (a secret port, say): the sent URL is then
    recorded, redacted.
    """
    scope = _Replay(values)
    try:
        url, _ = step.url.render(scope)
        target = str(_target(url, _params(step, scope)))
    except Exception:
        return None
    return target.replace(_MARKER, REDACTED)


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
