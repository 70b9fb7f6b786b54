"""Execute steps: render the request, send it, judge it, retry, capture outputs, redact.

`run_steps(state, start=..., after_step=...)` is the one step loop: the CLI (`run_artifact`),
the Cloud Runner's worker and self-hosted runners all run journeys through it (DESIGN.md
section 6, "One engine loop"). `execute_step(state, index)` runs exactly one step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reqflo.engine.assertions import evaluate_assertions
from reqflo.engine.compiler import Artifact
from reqflo.engine.evidence import redact_step, request_record, response_record
from reqflo.engine.http import BodyUnavailable, Exchange, perform
from reqflo.engine.outputs import OutputMissing, capture
from reqflo.engine.prepare import PreparedStep
from reqflo.engine.redaction import REDACTED, Seeds
from reqflo.engine.request_build import BuildError, build_request
from reqflo.engine.results import (
    AttemptOutcome,
    AttemptResult,
    RunResult,
    RunStatus,
    StepError,
    StepResult,
)
from reqflo.engine.state import RunOptions, RunState, StepContext

RETRYABLE_ERRORS = frozenset(
    {
        "timeout",
        "connect",
        "dns",
        "tls",
        "read",
        "protocol",
        "output",
        "incomplete_body",
        "invalid_body",
    }
)


_second_text: tuple[int, str] = (0, "")


def now_iso() -> str:
    """Return the UTC time as "2026-11-22T00:40:01.123Z" (the second's text is reused)."""
    global _second_text
    now = time.time()
    second = int(now)
    if _second_text[0] != second:
        # One formatting per second instead of per attempt; swapping a tuple is thread-safe.
        _second_text = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second_text[1]}.{int((now - second) * 1000):03d}Z"


class _Attempt:
    """One try of a step, with what later steps and the retry decision need."""

    __slots__ = ("exchange", "outputs", "result")

    def __init__(self, result: AttemptResult, exchange: Exchange | None, outputs: dict[str, Any]):
        self.result = result
        self.exchange = exchange
        self.outputs = outputs


def _run_attempt(state: RunState, step: PreparedStep, number: int) -> _Attempt:
    started_at = now_iso()
    started = time.perf_counter()
    options = state.options
    timeout_ms = step.timeout_ms or options.default_timeout_ms
    outputs: dict[str, Any] = {}
    exchange: Exchange | None = None
    sent = None
    assertions = []
    try:
        request, content, masked = build_request(state, step, timeout_ms)
        sent = request_record(request, content, options.body_limit_bytes)
        if masked is not None:
            sent.url = masked  # a secret is in the URL: as built with each one masked
        keep = options.max_response_bytes if step.needs_whole_body else options.body_limit_bytes
        exchange, error = perform(
            state.client,
            request,
            follow_redirects=options.follow_redirects
            if step.follow_redirects is None
            else step.follow_redirects,
            timeout_ms=timeout_ms,
            max_bytes=max(keep, options.body_limit_bytes),
            carries_secret=_carries_secret(state),
        )
    except BuildError as exc:
        error = exc.error
    outcome: AttemptOutcome = "error"
    if exchange is not None and error is None:
        assertions = evaluate_assertions(step.assertions, exchange, state)
        failed = any(not a.passed and not a.soft for a in assertions)
        outcome = "failed" if failed else "passed"
        missing = []
        for output in step.outputs:
            try:
                jar = (
                    state.client.cookies.get(str(output.key)) if output.source == "cookie" else None
                )
                outputs[output.name] = capture(output, exchange, jar)
            except OutputMissing as exc:
                missing.append(str(exc))
        # A failed assertion already explains the step; a missing output would only repeat it.
        if missing and outcome == "passed":
            outcome, error = "error", StepError("output", "; ".join(missing))
    result = AttemptResult(
        number=number,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        request=sent,
        response=response_record(exchange, options.body_limit_bytes) if exchange else None,
        error=error,
        assertions=assertions,
        outcome=outcome,
    )
    return _Attempt(result, exchange, outputs)


def _carries_secret(state: RunState) -> Any:
    redactor = state.redactor
    return (lambda value: redactor.occurs_in([value])) if redactor else None


def _retry_reason(step: PreparedStep, attempt: _Attempt) -> str | None:
    result = attempt.result
    if result.error is not None:
        return f"{result.error.kind} error" if result.error.kind in RETRYABLE_ERRORS else None
    if result.outcome == "failed":
        return "assertion failed"
    if (
        attempt.exchange is not None
        and attempt.exchange.status >= 500
        and not step.has_status_assertion
    ):
        return f"status {attempt.exchange.status}"
    return None


def execute_step(state: RunState, index: int) -> StepResult:
    """Run (or skip) step `index`, record it in the state and return its redacted result."""
    step = state.plan.steps[index]
    if state.failed_step is not None and not step.always:
        result = StepResult(
            index=index,
            step_id=step.id,
            name=step.name,
            status="skipped",
            skip_reason=f"skipped because step '{state.failed_step}' did not pass",
            always=step.always,
        )
        state.results[index] = result
        return result
    started = time.perf_counter()
    attempts: list[_Attempt] = []
    logs: list[str] = []
    for number in range(1, step.retries + 2):
        attempt = _run_attempt(state, step, number)
        attempts.append(attempt)
        if attempt.exchange is not None and attempt.exchange.notes:
            logs.extend(f"attempt {number}: {note}" for note in attempt.exchange.notes)
        reason = _retry_reason(step, attempt)
        if reason is None or number > step.retries:
            break
        attempt.result.retry_reason = reason
        attempt.exchange = None  # its evidence is recorded; free the body before trying again
        logs.append(f"attempt {number}: {reason}; retrying in {step.delay_ms:g} ms")
        if _wait_to_retry(state.options, step.delay_ms):
            logs.append(f"attempt {number + 1} not sent: the run was stopped")
            break
    final = attempts[-1]
    _remember(state, step, final)
    status = final.result.outcome
    if status != "passed" and state.failed_step is None:
        state.failed_step = step.id
    secret_names = state.plan.secret_outputs.get(step.id, frozenset())
    result = StepResult(
        index=index,
        step_id=step.id,
        name=step.name,
        status=status,
        always=step.always,
        attempts=[a.result for a in attempts],
        outputs={k: REDACTED if k in secret_names else v for k, v in final.outputs.items()},
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        logs=logs,
    )
    redact_step(result, state.redactor)
    state.results[index] = result
    return result


def _wait_to_retry(options: RunOptions, delay_ms: float) -> bool:
    """Sleep ``delay_ms`` before a retry; return True instead once a stop is requested."""
    stop = options.stop_requested
    if stop is None:
        if delay_ms:
            time.sleep(delay_ms / 1000)
        return False
    deadline = time.monotonic() + delay_ms / 1000
    while not stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, 0.25))
    return True


def _remember(state: RunState, step: PreparedStep, attempt: _Attempt) -> None:
    secret_names = state.plan.secret_outputs.get(step.id)
    if secret_names:
        state.redactor.add(*(v for k, v in attempt.outputs.items() if k in secret_names))
    exchange = attempt.exchange
    context = StepContext(outputs=attempt.outputs)
    if exchange is not None:
        context.status = exchange.status
        if step.keep_headers:
            context.headers = {k.lower(): v for k, v in exchange.header_map().items()}
        if step.keep_body and exchange.complete:
            context.has_body = True
            try:
                context.body = exchange.json()
            except BodyUnavailable as exc:
                if exc.reason == "body_too_deep":
                    # Its text would be walked as if it were the value: refer to nothing.
                    context.has_body = False
                else:
                    context.body = exchange.text()
    state.contexts[step.id] = context


AfterStep = Callable[[StepResult, list[StepResult]], bool]


def run_steps(state: RunState, *, start: int = 0, after_step: AfterStep | None = None) -> bool:
    """Run steps ``start`` to the last in order; return False when ``after_step`` stopped it.

    ``start`` is the first step without a result (a resumed run restores the earlier ones into
    ``state.results`` with ``RunState.restore``, redacted with every secret the restored state
    knows). After each step, every earlier result in which a secret captured since it was
    redacted occurs (a token output whose value an earlier response showed) is redacted again,
    in place. Then ``after_step(result, amended)`` gets the step's result and those earlier,
    re-redacted results (a runner that stored them rewrites them: the checkpoint); returning
    False stops the loop before the next step. Exceptions from ``after_step`` propagate.
    """
    # The redactor's version each result was last redacted at.
    redacted_at = {index: state.redactor.version for index in state.results if index < start}
    for index in range(start, len(state.plan.steps)):
        result = execute_step(state, index)
        version = state.redactor.version
        amended: list[StepResult] = []
        for earlier, at in sorted(redacted_at.items()):
            if at != version:
                redacted_at[earlier] = version
                if redact_step(state.results[earlier], state.redactor):
                    amended.append(state.results[earlier])
        redacted_at[index] = version
        if after_step is not None and not after_step(result, amended):
            return False
    return True


def _run_status(steps: list[StepResult]) -> RunStatus:
    for step in steps:
        if step.status in ("failed", "error"):
            return "failed" if step.status == "failed" else "error"
    return "passed"


def _calling(on_step: Callable[[StepResult], None]) -> AfterStep:
    def after_step(result: StepResult, amended: list[StepResult]) -> bool:
        on_step(result)
        return True

    return after_step


def run_artifact(
    artifact: Artifact,
    *,
    inputs: Mapping[str, Any],
    environment: Mapping[str, Any],
    secrets: Mapping[str, str],
    run_id: str | None = None,
    options: RunOptions | None = None,
    client: httpx.Client | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    label: str | None = None,
    environment_name: str | None = None,
    row: int | None = None,
    seeds: Seeds | None = None,
) -> RunResult:
    """Run every step in order and return the redacted result; never raises for the journey.

    `seeds`: shared by the runs of one command, registers their common secrets once."""
    started_at = now_iso()
    started = time.perf_counter()
    with RunState(
        artifact,
        inputs=inputs,
        environment=environment,
        secrets=secrets,
        run_id=run_id,
        options=options,
        client=client,
        seeds=seeds,
    ) as state:
        run_steps(state, after_step=_calling(on_step) if on_step else None)
    steps = [state.results[i] for i in range(len(state.plan.steps))]
    shown_inputs = {
        name: REDACTED if name in state.plan.secret_inputs else state.inputs[name]
        for name in state.plan.input_names
        if name in state.inputs
    }
    return RunResult(
        run_id=state.run_id,
        journey_name=artifact.journey_name,
        journey_slug=artifact.journey_slug,
        artifact_id=artifact.id,
        status=_run_status(steps),
        steps=steps,
        started_at=started_at,
        finished_at=now_iso(),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        label=state.redactor.redact(label) if label else label,
        row=row,
        environment=environment_name,
        inputs=state.redactor.redact_obj(shown_inputs),
    )
