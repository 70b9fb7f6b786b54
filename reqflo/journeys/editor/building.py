"""Build the document the form describes, with field problems as engine-style issues."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reqflo.engine import DefinitionError, Issue, numbers
from reqflo.engine.depth import load_json
from reqflo.journeys.editor.state import (
    OPERATOR_TYPES,
    AssertionRow,
    EditorState,
    OutputRow,
    StepForm,
    rows_to_pairs,
    text_to_pairs,
    text_to_value,
)

# --- State → document ----------------------------------------------------------------------------


def _placed(error: DefinitionError, path: str) -> list[Issue]:
    """Return the error's issues at `path` (a field's text was parsed on its own)."""
    return [Issue(i.severity, i.code, path, i.message) for i in error.issues]


def _json_extra(text: str, path: str, issues: list[Issue]) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = load_json(text)
    except (json.JSONDecodeError, DefinitionError):
        issues.append(Issue("error", "invalid_extra", path, "hidden field was damaged; reload"))
        return {}
    return value if isinstance(value, dict) else {}


def _number(text: str, path: str, issues: list[Issue]) -> numbers.Number | None:
    value = text_to_value(text)
    if value == "":
        return None
    if numbers.is_number(value):
        number: numbers.Number = value
        return number
    issues.append(Issue("error", "wrong_type", path, f"'{text.strip()}' is not a number"))
    return None


def _assertion(row: AssertionRow, path: str, issues: list[Issue]) -> dict[str, Any]:
    item: dict[str, Any] = {"type": row.type}
    if row.type == "json_path":
        item["path"] = row.target.strip()
    elif row.type == "header":
        item["name"] = row.target.strip()
    # A hidden operator left over from another type would be an unknown key for this one.
    if row.operator and row.type in OPERATOR_TYPES:
        item["operator"] = row.operator
    if row.type == "json_schema":
        try:
            item["schema"] = load_json(row.expected or "{}")
        except json.JSONDecodeError as exc:
            issues.append(
                Issue("error", "invalid_json", f"{path}.schema", f"the schema is not JSON: {exc}")
            )
        except DefinitionError as exc:
            issues.extend(_placed(exc, f"{path}.schema"))
    elif row.type == "body_contains":
        item["expected"] = row.expected
    elif row.expected.strip():
        item["expected"] = text_to_value(row.expected)
    if row.soft:
        item["soft"] = True
    return item


def _output(row: OutputRow) -> dict[str, Any]:
    item: dict[str, Any] = {"from": row.source}
    if row.source == "body":
        item["path"] = row.path.strip()
    elif row.source in ("header", "cookie"):
        item["name"] = row.path.strip()
    if row.secret:
        item["secret"] = True
    return item


StepItem = tuple[dict[str, Any], tuple[Issue, ...]]


def step_item(step: StepForm) -> StepItem:
    """Return the document's step the form describes, and the field problems found on the way
    with paths after the step's own (``.request.json``; ``""`` for the step itself).

    A step's part of the document depends on nothing but the step: ``document_from_state``
    puts each at its place, ``steps[N]`` before each problem's path.
    """
    issues: list[Issue] = []
    return _step(step, "", issues), tuple(issues)


def _step(step: StepForm, path: str, issues: list[Issue]) -> dict[str, Any]:
    extra = _json_extra(step.extra, path, issues)
    request: dict[str, Any] = {"method": step.method.upper(), "url": step.url.strip()}
    headers = rows_to_pairs(step.headers, f"{path}.request.headers", issues, "headers")
    if headers:
        request["headers"] = headers
    query = rows_to_pairs(step.query, f"{path}.request.query", issues, "query")
    if query:
        request["query"] = query
    if step.body_kind == "json" and step.body.strip():
        try:
            request["json"] = load_json(step.body)
        except json.JSONDecodeError as exc:
            issues.append(
                Issue(
                    "error",
                    "invalid_json",
                    f"{path}.request.json",
                    f"the JSON body does not parse: {exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno}",
                )
            )
        except DefinitionError as exc:
            issues.extend(_placed(exc, f"{path}.request.json"))
    elif step.body_kind == "form" and step.body.strip():
        request["form"] = text_to_pairs(step.body, ":", f"{path}.request.form", issues, "form")
    elif step.body_kind == "body":
        request["body"] = step.body
    request.update(extra.pop("request", {}))
    item: dict[str, Any] = {"id": step.id}
    if step.name.strip() and step.name.strip() != step.id:
        item["name"] = step.name.strip()
    item["request"] = request
    timeout = _number(step.timeout_ms, f"{path}.timeout_ms", issues)
    if timeout is not None:
        item["timeout_ms"] = timeout
    count = _number(step.retries_count, f"{path}.retries.count", issues)
    if count:
        retries: dict[str, Any] = {"count": count}
        delay = _number(step.retries_delay_ms, f"{path}.retries.delay_ms", issues)
        if delay:
            retries["delay_ms"] = delay
        item["retries"] = retries
    if step.always:
        item["always"] = True
    if step.assertions:
        item["assertions"] = [
            _assertion(row, f"{path}.assertions[{j}]", issues)
            for j, row in enumerate(step.assertions)
        ]
    if step.outputs:
        outputs: dict[str, Any] = {}
        for j, row in enumerate(step.outputs):
            if not row.name.strip():
                # Keyed by name: a nameless row has no place in the document. A new row with
                # nothing typed is skipped; one with a path says so at its own name field.
                if row.path.strip():
                    message = f"row {j + 1} of the outputs has a path but no name"
                    issues.append(Issue("error", "missing_name", f"{path}.outputs[{j}]", message))
                continue
            if row.name in outputs:
                issues.append(
                    Issue(
                        "error",
                        "duplicate",
                        f"{path}.outputs.{row.name}",
                        f"output '{row.name}' is defined twice (row {j + 1})",
                    )
                )
            outputs[row.name] = _output(row)
        item["outputs"] = outputs
    item.update(extra)
    return item


def document_from_state(
    state: EditorState, step_items: Callable[[StepForm], StepItem] = step_item
) -> tuple[dict[str, Any], list[Issue]]:
    """Build the document the form describes, plus the field problems found on the way.

    The document is returned even with problems, so the YAML view can still show it.
    ``step_items`` gives each step's part (``step_item``, or the editor's memory of it,
    ``packing.StepMemory.item``, whose mappings are shared: read the document, don't change it).
    """
    issues: list[Issue] = []
    journey: dict[str, Any] = {"name": state.name.strip()}
    if state.description.strip():
        journey["description"] = state.description.strip()
    tags = [tag.strip() for tag in state.tags.split(",") if tag.strip()]
    if tags:
        journey["tags"] = tags
    inputs = []
    for i, row in enumerate(state.inputs):
        item: dict[str, Any] = {"name": row.name.strip()}
        has_default = row.default.strip() != ""
        if has_default:
            item["default"] = text_to_value(row.default)
        # Required is implied when there is no default; write it only when it says otherwise.
        if row.required == has_default:
            item["required"] = row.required
        if row.description.strip():
            item["description"] = row.description.strip()
        item.update(_json_extra(row.extra, f"inputs[{i}]", issues))
        inputs.append(item)
    if inputs:
        journey["inputs"] = inputs
    variables = [
        {"name": row.name.strip(), "value": text_to_value(row.value)} for row in state.variables
    ]
    if variables:
        journey["variables"] = variables
    steps = []
    for i, step in enumerate(state.steps):
        item, problems = step_items(step)
        steps.append(item)
        issues.extend(Issue(p.severity, p.code, f"steps[{i}]{p.path}", p.message) for p in problems)
    journey["steps"] = steps
    # Keys without a field (``slug``, ``idempotency_key``…) go back near the top, where
    # authors write them, rather than after a long list of steps.
    extra = _json_extra(state.extra, "", issues)
    head = {key: journey.pop(key) for key in ("name", "description", "tags") if key in journey}
    return {"journey": {**head, **extra, **journey}}, issues
