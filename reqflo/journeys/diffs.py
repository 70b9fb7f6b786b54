"""Compare two journey documents: a unified YAML diff plus a step-level summary.

Also the one-line-per-step outline the version page shows above the YAML, for readers who do
not read YAML.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

from reqflo.journeys.documents import render_yaml

LineKind = Literal["hunk", "context", "added", "removed"]
StepChangeKind = Literal["added", "removed", "changed", "moved"]

# Journey-level keys summarised in words when they differ, in the order a reader expects them.
_JOURNEY_FIELDS = ("name", "slug", "description", "tags", "idempotency_key", "inputs", "variables")


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    text: str
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True, slots=True)
class StepChange:
    step_id: str
    kind: StepChangeKind
    old_index: int | None
    new_index: int | None
    # For a changed step: what changed, in the form's words ("URL", "checks").
    fields: tuple[str, ...] = ()


# A step's keys as the form names them; request keys are looked up as "request.<key>".
_STEP_FIELD_WORDS = {
    "name": "name",
    "description": "description",
    "request.method": "method",
    "request.url": "URL",
    "request.headers": "headers",
    "request.query": "query",
    "request.json": "body",
    "request.form": "body",
    "request.body": "body",
    "timeout_ms": "timeout",
    "retries": "retries",
    "always": "always run",
    "assertions": "checks",
    "outputs": "outputs",
}


def _request(step: dict[str, Any]) -> dict[str, Any]:
    request = step.get("request")
    return request if isinstance(request, dict) else {}


def changed_step_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """Return what differs between two versions of one step, in the form's words, in order."""
    old_request = _request(old)
    new_request = _request(new)
    keys = [key for key in {**old, **new} if key not in ("id", "request")]
    paths = [f"request.{key}" for key in {**old_request, **new_request}] + keys
    words: list[str] = []
    for path in paths:
        section, _, key = path.rpartition(".")
        before = (old_request if section else old).get(key)
        after = (new_request if section else new).get(key)
        word = _STEP_FIELD_WORDS.get(path, path)
        if before != after and word not in words:
            words.append(word)
    return tuple(words)


@dataclass(frozen=True)
class DocumentDiff:
    """What changed from ``old`` to ``new``; empty lists mean the documents are equal."""

    lines: list[DiffLine] = field(default_factory=list)
    steps: list[StepChange] = field(default_factory=list)
    journey_fields: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.lines

    def count(self, kind: StepChangeKind) -> int:
        return sum(1 for change in self.steps if change.kind == kind)

    @property
    def summary(self) -> str:
        """Return e.g. "Steps: 1 added, 2 changed. Journey: name." or "No changes."."""
        kinds: tuple[StepChangeKind, ...] = ("added", "removed", "changed", "moved")
        counts = [f"{self.count(kind)} {kind}" for kind in kinds if self.count(kind)]
        parts = []
        if counts:
            parts.append("Steps: " + ", ".join(counts) + ".")
        if self.journey_fields:
            parts.append("Journey: " + ", ".join(self.journey_fields) + ".")
        if not parts and not self.identical:
            parts.append("Only formatting changed.")
        return " ".join(parts) or "No changes."


def _journey(document: dict[str, Any]) -> dict[str, Any]:
    body = document.get("journey")
    return body if isinstance(body, dict) else {}


def _steps_by_id(journey: dict[str, Any]) -> dict[str, tuple[int, Any]]:
    steps = journey.get("steps") or []
    return {
        str(step.get("id")): (index, step)
        for index, step in enumerate(steps)
        if isinstance(step, dict)
    }


@dataclass(frozen=True, slots=True)
class StepLine:
    """One step in a few words: ``POST {{ env.base_url }}/login``, 3 checks, outputs ``token``."""

    number: int
    step_id: str
    name: str
    method: str
    url: str
    checks: int
    outputs: tuple[str, ...]
    always: bool


def step_outline(document: dict[str, Any]) -> list[StepLine]:
    """Return one line per step of the document, in order."""
    lines = []
    for number, step in enumerate(_journey(document).get("steps") or [], start=1):
        if not isinstance(step, dict):
            continue
        request = _request(step)
        outputs = step.get("outputs")
        lines.append(
            StepLine(
                number=number,
                step_id=str(step.get("id", "")),
                name=str(step.get("name", "")),
                method=str(request.get("method", "GET")),
                url=str(request.get("url", "")),
                checks=len(step.get("assertions") or []),
                outputs=tuple(outputs) if isinstance(outputs, dict) else (),
                always=bool(step.get("always")),
            )
        )
    return lines


def step_changes(old: dict[str, Any], new: dict[str, Any]) -> list[StepChange]:
    """Return added, removed, changed and moved steps, matched by step id, in new-document order.

    A step counts as moved when its position among the steps both versions share changed, so
    inserting one step does not report every later step as moved.
    """
    old_steps = _steps_by_id(_journey(old))
    new_steps = _steps_by_id(_journey(new))
    shared_old = [step_id for step_id in old_steps if step_id in new_steps]
    shared_new = [step_id for step_id in new_steps if step_id in old_steps]
    old_rank = {step_id: rank for rank, step_id in enumerate(shared_old)}
    new_rank = {step_id: rank for rank, step_id in enumerate(shared_new)}
    changes: list[StepChange] = []
    for step_id, (new_index, step) in new_steps.items():
        if step_id not in old_steps:
            changes.append(StepChange(step_id, "added", None, new_index))
            continue
        old_index, old_step = old_steps[step_id]
        if old_step != step:
            fields = changed_step_fields(old_step, step)
            changes.append(StepChange(step_id, "changed", old_index, new_index, fields))
        elif old_rank[step_id] != new_rank[step_id]:
            changes.append(StepChange(step_id, "moved", old_index, new_index))
    changes.extend(
        StepChange(step_id, "removed", old_index, None)
        for step_id, (old_index, _) in old_steps.items()
        if step_id not in new_steps
    )
    return changes


def _line_diff(old_text: str, new_text: str, context: int) -> list[DiffLine]:
    old_lines = old_text.splitlines()
    new_lines = new_text.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        lines.append(
            DiffLine(
                "hunk",
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("context", old_lines[i], i + 1, j1 + offset + 1)
                    for offset, i in enumerate(range(i1, i2))
                )
                continue
            if tag in ("replace", "delete"):
                lines.extend(DiffLine("removed", old_lines[i], i + 1, None) for i in range(i1, i2))
            if tag in ("replace", "insert"):
                lines.extend(DiffLine("added", new_lines[j], None, j + 1) for j in range(j1, j2))
    return lines


def diff_documents(old: dict[str, Any], new: dict[str, Any], *, context: int = 3) -> DocumentDiff:
    """Return the YAML line diff and the step and journey-field summary from old to new."""
    old_journey, new_journey = _journey(old), _journey(new)
    return DocumentDiff(
        lines=_line_diff(render_yaml(old), render_yaml(new), context),
        steps=step_changes(old, new),
        journey_fields=[
            name for name in _JOURNEY_FIELDS if old_journey.get(name) != new_journey.get(name)
        ],
    )
