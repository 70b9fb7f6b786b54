"""Build engine results by hand for the report renderer tests.

The renderers are pure functions of RunResult; building inputs here lets a test pin down every
status (passed, failed, error, skipped, soft failure) without depending on a target's timing.
"""

from __future__ import annotations

from reqflo.engine.results import (
    AssertionResult,
    AttemptResult,
    RequestRecord,
    ResponseRecord,
    RunResult,
    StepError,
    StepResult,
)

STARTED = "2026-11-21T10:00:00.000000Z"


def assertion(
    *, passed: bool, expected: object = "paid", actual: object = "paid", soft: bool = False
) -> AssertionResult:
    verdict = "" if passed else f", got {actual!r}"
    return AssertionResult(
        index=0,
        type="json_path",
        operator="equals",
        target="$.status",
        expected=expected,
        actual=actual,
        passed=passed,
        soft=soft,
        message=f"expected $.status equals {expected!r}{verdict}",
    )


def attempt(
    *,
    assertions: list[AssertionResult] | None = None,
    status: int = 200,
    error: StepError | None = None,
    body: str = '{"status": "paid"}',
) -> AttemptResult:
    response = None
    if error is None:
        response = ResponseRecord(
            status=status,
            reason="OK",
            http_version="HTTP/1.1",
            headers={"content-type": "application/json"},
            body=body,
            body_size=len(body),
            body_truncated=False,
            elapsed_ms=12.5,
        )
    outcome = "error" if error else "passed"
    if assertions and not all(a.passed or a.soft for a in assertions):
        outcome = "failed"
    return AttemptResult(
        number=1,
        started_at=STARTED,
        duration_ms=13.0,
        request=RequestRecord(
            method="GET",
            url="http://127.0.0.1:9/orders/1",
            headers={"Authorization": "•••••"},
            body=None,
            body_size=0,
        ),
        response=response,
        error=error,
        assertions=assertions or [],
        outcome=outcome,
    )


def step(index: int, status: str, *, attempts: list[AttemptResult] | None = None) -> StepResult:
    return StepResult(
        index=index,
        step_id=f"step{index}",
        name=f"Step {index}",
        status=status,  # type: ignore[arg-type]
        skip_reason="skipped because step 'step1' failed" if status == "skipped" else None,
        attempts=attempts if attempts is not None else ([] if status == "skipped" else [attempt()]),
        duration_ms=0.0 if status == "skipped" else 13.0,
    )


def run(
    steps: list[StepResult], *, label: str | None = None, status: str | None = None
) -> RunResult:
    if status is None:
        status = "passed" if all(s.status == "passed" for s in steps) else "failed"
    return RunResult(
        run_id="run_0123456789abcdef",
        journey_name="Checkout flow",
        journey_slug="checkout-flow",
        artifact_id="art_0123456789abcdef",
        status=status,  # type: ignore[arg-type]
        steps=steps,
        started_at=STARTED,
        finished_at="2026-11-21T10:00:00.100000Z",
        duration_ms=100.0,
        label=label,
        environment="demo",
        inputs={"email": "ada@example.com", "quantity": 2},
    )


def passing_run(label: str | None = None) -> RunResult:
    return run([step(0, "passed"), step(1, "passed")], label=label)


def failing_run(label: str | None = None) -> RunResult:
    """Return a run whose step 1 fails an assertion, step 2 is skipped and step 3 errors."""
    failed = attempt(assertions=[assertion(passed=False, expected="paid", actual="pending")])
    errored = attempt(error=StepError(kind="connect", message="connection refused"))
    return run(
        [
            step(0, "passed"),
            step(1, "failed", attempts=[failed]),
            step(2, "skipped"),
            step(3, "error", attempts=[errored]),
        ],
        label=label,
    )
