"""Compare two runs of one journey step by step: what differs, and the bodies' diff.

Steps are matched by step id (two versions of a journey may add, drop or reorder steps), in
the order of run B's plan, then any step only run A had. For each pair: the status, the final
attempt's response status and duration, every assertion's outcome and actual value (matched by
its index), and unified diffs of the response headers (all but ``Date``) and bodies (JSON
pretty-printed first, so a diff is per value, not per byte).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from reqflo.engine.results import AssertionResult
from reqflo.engine.results import StepResult as EngineStepResult
from reqflo.runs.display import actual_text, pretty_body
from reqflo.runs.selectors import RunDetail, StepView

# Lines of context around each change in the body and header diffs.
DIFF_CONTEXT = 3
# Headers that differ between any two responses and say nothing about the API: left out.
VOLATILE_HEADERS = frozenset({"date"})


@dataclass(frozen=True)
class AssertionPair:
    label: str
    a: AssertionResult | None
    b: AssertionResult | None

    @property
    def differs(self) -> bool:
        a_key = (self.a.passed, actual_text(self.a)) if self.a else None
        b_key = (self.b.passed, actual_text(self.b)) if self.b else None
        return a_key != b_key


@dataclass
class StepPair:
    """One step as each run has it, and what differs between them."""

    step_id: str
    name: str
    a: StepView | None
    b: StepView | None
    assertions: list[AssertionPair] = field(default_factory=list)
    header_diff: list[str] = field(default_factory=list)
    body_diff: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[str]:
        """Name what differs: status, response status, assertions, headers, body."""
        found = []
        if _state(self.a) != _state(self.b):
            found.append("status")
        if _response_status(self.a) != _response_status(self.b):
            found.append("response status")
        if any(pair.differs for pair in self.assertions):
            found.append("assertions")
        if self.header_diff:
            found.append("headers")
        if self.body_diff:
            found.append("body")
        return found


def _state(view: StepView | None) -> str:
    return view.state if view else "absent"


def _final(view: StepView | None) -> Any:
    result: EngineStepResult | None = view.result if view else None
    return result.final if result else None


def _response_status(view: StepView | None) -> int | None:
    final = _final(view)
    return final.response.status if final and final.response else None


def _assertion_label(assertion: AssertionResult) -> str:
    parts = (assertion.type, assertion.target, assertion.operator)
    return " ".join(part for part in parts if part)


def _assertions(a: StepView | None, b: StepView | None) -> list[AssertionPair]:
    fa, fb = _final(a), _final(b)
    left = {x.index: x for x in fa.assertions} if fa else {}
    right = {x.index: x for x in fb.assertions} if fb else {}
    pairs = []
    for index in sorted(set(left) | set(right)):
        one, two = left.get(index), right.get(index)
        label = _assertion_label(one or two)  # type: ignore[arg-type]  # one of them exists
        pairs.append(AssertionPair(label=label, a=one, b=two))
    return pairs


def _lines(view: StepView | None, part: str) -> list[str]:
    final = _final(view)
    response = final.response if final else None
    if response is None:
        return []
    if part == "headers":
        return [
            f"{name}: {value}"
            for name, value in sorted(response.headers.items())
            if name.lower() not in VOLATILE_HEADERS
        ]
    return pretty_body(response.body)[0].splitlines()


def _diff(a: list[str], b: list[str], names: tuple[str, str]) -> list[str]:
    return list(
        difflib.unified_diff(a, b, fromfile=names[0], tofile=names[1], n=DIFF_CONTEXT, lineterm="")
    )


def compare_runs(a: RunDetail, b: RunDetail) -> list[StepPair]:
    """Return the step pairs of runs ``a`` (the earlier, usually) and ``b``."""
    names = (f"run {str(a.run.pk)[:8]}", f"run {str(b.run.pk)[:8]}")
    left = {view.step_id: view for view in a.steps}
    right = {view.step_id: view for view in b.steps}
    order = [view.step_id for view in b.steps] + [
        view.step_id for view in a.steps if view.step_id not in right
    ]
    pairs = []
    for step_id in order:
        one, two = left.get(step_id), right.get(step_id)
        pairs.append(
            StepPair(
                step_id=step_id,
                name=(two or one).name,  # type: ignore[union-attr]  # one of them exists
                a=one,
                b=two,
                assertions=_assertions(one, two),
                header_diff=_diff(_lines(one, "headers"), _lines(two, "headers"), names),
                body_diff=_diff(_lines(one, "body"), _lines(two, "body"), names),
            )
        )
    return pairs
