"""Evidence of a run: attempts, steps and runs as JSON-safe dataclasses.

Every string in these objects has already been through the run's Redactor when the engine hands
them out, so they can be stored, printed and reported as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

StepStatus = Literal["passed", "failed", "error", "skipped"]
RunStatus = Literal["passed", "failed", "error"]
AttemptOutcome = Literal["passed", "failed", "error"]
ErrorKind = Literal[
    "timeout",
    "connect",
    "dns",
    "tls",
    "read",
    "protocol",
    "too_large",
    "reference",
    "invalid_request",
    "output",
    "incomplete_body",
    "invalid_body",
]


# Why an assertion has no actual value: "missing" is not `null`. The JSON value `null` found at a
# path is an actual value (`actual: null`, `actual_missing: null`); a path that matched nothing is
# not (`actual: null`, `actual_missing: "path_not_found"`).
NO_VALUE_REASONS: dict[str, str] = {
    "path_not_found": "the JSONPath matched nothing",
    "header_absent": "the response has no such header",
    "body_not_json": "the response body is not JSON",
    "body_unavailable": "the response body could not be read whole",
    "body_too_deep": "the response body is nested too deeply to read",
    "not_evaluated": "the assertion could not be evaluated",
}


# Why an assertion has no expected value: `exists`, `not_exists`, `is_empty` and `not_empty`
# take none, and `expected: null` would read as "expected the JSON null".
NO_EXPECTED_REASONS: dict[str, str] = {
    "not_taken": "the operator takes no expected value",
}


def no_value_text(reason: str) -> str:
    """Return how reports show a missing value, e.g. "(no value: the JSONPath matched nothing)"."""
    text = NO_VALUE_REASONS.get(reason) or NO_EXPECTED_REASONS.get(reason, reason)
    return f"(no value: {text})"


def expected_shown(assertion: AssertionResult, write: Callable[[Any], str]) -> str:
    """Return an assertion's expected value as `write` spells it, or why there is none."""
    if assertion.expected_missing:
        return no_value_text(assertion.expected_missing)
    return write(assertion.expected)


def actual_shown(assertion: AssertionResult, write: Callable[[Any], str]) -> str:
    """Return an assertion's actual value as `write` spells it, or why there is none."""
    if assertion.actual_missing:
        return no_value_text(assertion.actual_missing)
    return write(assertion.actual)


class RedirectRecord(TypedDict):
    status: int
    url: str
    location: str


@dataclass(slots=True)
class AssertionResult:
    index: int
    type: str
    operator: str | None
    target: str | None
    expected: Any
    actual: Any
    passed: bool
    soft: bool
    message: str
    # None when `actual` holds the value found; otherwise a key of NO_VALUE_REASONS (and
    # `actual` is None, meaning nothing).
    actual_missing: str | None = None
    # None when `expected` holds the expected value; "not_taken" (NO_EXPECTED_REASONS) for an
    # operator that takes none (then `expected` is None, meaning nothing).
    expected_missing: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "operator": self.operator,
            "target": self.target,
            "expected": self.expected,
            "expected_missing": self.expected_missing,
            "actual": self.actual,
            "actual_missing": self.actual_missing,
            "passed": self.passed,
            "soft": self.soft,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssertionResult:
        return cls(**data)


# What evidence holds for a NUL character (U+0000) of a body, a value or a message: U+2400
# SYMBOL FOR NULL. PostgreSQL's JSON and text columns cannot hold U+0000 (a binary body, a
# UTF-16 text, a JSON string with "\\u0000" would fail the step's checkpoint), and the same
# evidence is digested on the CLI, a self-hosted runner and the server, so it is written the
# same way everywhere, once, here.
NUL_SYMBOL = "\u2400"


def without_nul(data: Any) -> Any:
    """Return plain data with NUL in every string (keys too) written as NUL_SYMBOL."""
    kind = type(data)
    if kind is str:
        return data.replace("\x00", NUL_SYMBOL) if "\x00" in data else data
    if kind is dict:
        return {without_nul(key): without_nul(value) for key, value in data.items()}
    if kind is list or kind is tuple:
        return [without_nul(item) for item in data]
    return data


@dataclass(slots=True)
class RequestRecord:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    body_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body,
            "body_size": self.body_size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestRecord:
        return cls(**data)


@dataclass(slots=True)
class ResponseRecord:
    """What came back; `body` holds at most the body limit, `body_size` the true size."""

    status: int
    reason: str
    http_version: str
    headers: dict[str, str]
    body: str | None
    body_size: int
    body_truncated: bool
    elapsed_ms: float
    redirects: list[RedirectRecord] = field(default_factory=list)
    body_encoding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "http_version": self.http_version,
            "headers": dict(self.headers),
            "body": self.body,
            "body_size": self.body_size,
            "body_truncated": self.body_truncated,
            "body_encoding": self.body_encoding,
            "elapsed_ms": self.elapsed_ms,
            "redirects": [dict(r) for r in self.redirects],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResponseRecord:
        data = dict(data)
        data["redirects"] = [
            RedirectRecord(status=r["status"], url=r["url"], location=r["location"])
            for r in data.get("redirects", [])
        ]
        return cls(**data)


@dataclass(slots=True)
class StepError:
    kind: ErrorKind
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepError:
        return cls(kind=data["kind"], message=data["message"])


@dataclass(slots=True)
class AttemptResult:
    number: int
    started_at: str
    duration_ms: float
    request: RequestRecord | None
    response: ResponseRecord | None
    error: StepError | None
    assertions: list[AssertionResult]
    outcome: AttemptOutcome
    retry_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "request": self.request.to_dict() if self.request else None,
            "response": self.response.to_dict() if self.response else None,
            "error": self.error.to_dict() if self.error else None,
            "assertions": [a.to_dict() for a in self.assertions],
            "outcome": self.outcome,
            "retry_reason": self.retry_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttemptResult:
        return cls(
            number=data["number"],
            started_at=data["started_at"],
            duration_ms=data["duration_ms"],
            request=RequestRecord.from_dict(data["request"]) if data.get("request") else None,
            response=ResponseRecord.from_dict(data["response"]) if data.get("response") else None,
            error=StepError.from_dict(data["error"]) if data.get("error") else None,
            assertions=[AssertionResult.from_dict(a) for a in data.get("assertions", [])],
            outcome=data["outcome"],
            retry_reason=data.get("retry_reason"),
        )


@dataclass(slots=True)
class StepResult:
    index: int
    step_id: str
    name: str
    status: StepStatus
    skip_reason: str | None = None
    always: bool = False
    attempts: list[AttemptResult] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    logs: list[str] = field(default_factory=list)

    @property
    def final(self) -> AttemptResult | None:
        """Return the last attempt, the one that decided the step (None when skipped)."""
        return self.attempts[-1] if self.attempts else None

    @property
    def failed_assertions(self) -> list[AssertionResult]:
        """Return the failed assertions of the final attempt, soft ones included."""
        final = self.final
        return [a for a in final.assertions if not a.passed] if final else []

    @property
    def error(self) -> StepError | None:
        final = self.final
        return final.error if final else None

    def to_dict(self) -> dict[str, Any]:
        """The step's evidence as plain data, with every NUL character written as NUL_SYMBOL."""
        evidence: dict[str, Any] = without_nul(
            {
                "index": self.index,
                "step_id": self.step_id,
                "name": self.name,
                "status": self.status,
                "skip_reason": self.skip_reason,
                "always": self.always,
                "attempts": [a.to_dict() for a in self.attempts],
                "outputs": dict(self.outputs),
                "duration_ms": self.duration_ms,
                "logs": list(self.logs),
            }
        )
        return evidence

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepResult:
        return cls(
            index=data["index"],
            step_id=data["step_id"],
            name=data["name"],
            status=data["status"],
            skip_reason=data.get("skip_reason"),
            always=data.get("always", False),
            attempts=[AttemptResult.from_dict(a) for a in data.get("attempts", [])],
            outputs=dict(data.get("outputs", {})),
            duration_ms=data.get("duration_ms", 0.0),
            logs=list(data.get("logs", [])),
        )


@dataclass(slots=True)
class RunResult:
    run_id: str
    journey_name: str
    journey_slug: str
    artifact_id: str
    status: RunStatus
    steps: list[StepResult]
    started_at: str
    finished_at: str
    duration_ms: float
    label: str | None = None
    environment: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    # 1-based number of the data row the run came from (labels may repeat); None otherwise.
    row: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "journey_name": self.journey_name,
            "journey_slug": self.journey_slug,
            "artifact_id": self.artifact_id,
            "label": self.label,
            "row": self.row,
            "environment": self.environment,
            "inputs": dict(self.inputs),
            "status": self.status,
            "steps": [s.to_dict() for s in self.steps],
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            run_id=data["run_id"],
            journey_name=data["journey_name"],
            journey_slug=data["journey_slug"],
            artifact_id=data["artifact_id"],
            status=data["status"],
            steps=[StepResult.from_dict(s) for s in data.get("steps", [])],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            duration_ms=data["duration_ms"],
            label=data.get("label"),
            row=data.get("row"),
            environment=data.get("environment"),
            inputs=dict(data.get("inputs", {})),
        )
