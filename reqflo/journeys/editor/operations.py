"""Editor buttons that change the form without saving, and where an issue path points."""

from __future__ import annotations

import copy
import re
from typing import Any

from reqflo.journeys.editor.state import (
    AssertionRow,
    EditorState,
    InputRow,
    OutputRow,
    PairRow,
    StepForm,
    VariableRow,
)

# --- Operations (buttons that change the form without saving) ------------------------------------


def _free_step_id(state: EditorState, wanted: str) -> str:
    taken = {step.id for step in state.steps}
    candidate, counter = wanted, 2
    while candidate in taken:
        candidate = f"{wanted}-{counter}"
        counter += 1
    return candidate


def new_step(state: EditorState) -> StepForm:
    """Return a fresh GET step with a free id and one status assertion."""
    return StepForm(
        id=_free_step_id(state, f"step-{len(state.steps) + 1}"),
        url="{{ env.base_url }}/",
        assertions=[AssertionRow(type="status_code", expected="200")],
    )


def _swap(items: list[Any], a: int, b: int) -> None:
    if 0 <= a < len(items) and 0 <= b < len(items):
        items[a], items[b] = items[b], items[a]


def _pop(items: list[Any], index: int) -> None:
    if 0 <= index < len(items):
        items.pop(index)


def _output_name(step: StepForm, path: str) -> str:
    """Return a free output name for a JSONPath (``$.items[0].id`` → ``id``)."""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path)
    wanted = words[-1] if words else "value"
    taken = {row.name for row in step.outputs}
    candidate, counter = wanted, 2
    while candidate in taken:
        candidate = f"{wanted}_{counter}"
        counter += 1
    return candidate


def _rows(step: StepForm, operation: str) -> list[PairRow]:
    return step.headers if operation.endswith("_header") else step.query


def apply_operation(
    state: EditorState, operation: str, picked: tuple[str, str] | None = None
) -> bool:
    """Apply one editor button (``add_step``, ``move_up:3``, ``remove_output:2:0``…).

    ``add_header:I`` / ``remove_header:I:J`` (and ``add_query``, ``remove_query``) add an empty
    row to step I's headers (query) or remove its row J. ``move_step:FROM:TO`` (a drag in the
    step list) moves the step at index FROM to index TO; the others keep their order.
    ``pick_assertion:I`` and ``pick_output:I`` add a check or an output of step I for
    ``picked`` (JSONPath, value as JSON), a value clicked in a response.

    Returns False for an unknown or out-of-range operation, which then changes nothing.
    """
    name, *raw = operation.split(":")
    try:
        args = [int(value) for value in raw]
    except ValueError:
        return False
    steps = state.steps

    def step_at(index: int) -> StepForm | None:
        return steps[index] if 0 <= index < len(steps) else None

    if name == "add_step" and not args:
        steps.append(new_step(state))
    elif name == "add_input" and not args:
        state.inputs.append(InputRow(required=True))
    elif name == "add_variable" and not args:
        state.variables.append(VariableRow())
    elif name == "remove_input" and len(args) == 1:
        _pop(state.inputs, args[0])
    elif name == "remove_variable" and len(args) == 1:
        _pop(state.variables, args[0])
    elif len(args) >= 1 and (step := step_at(args[0])) is not None:
        i = args[0]
        if name == "remove_step" and len(args) == 1:
            steps.pop(i)
        elif name == "move_up" and len(args) == 1:
            _swap(steps, i, i - 1)
        elif name == "move_down" and len(args) == 1:
            _swap(steps, i, i + 1)
        elif name == "move_step" and len(args) == 2 and 0 <= args[1] < len(steps):
            # Dragged in the step list: take the step out and put it back at the new place.
            steps.insert(args[1], steps.pop(i))
        elif name == "duplicate_step" and len(args) == 1:
            twin = copy.deepcopy(step)
            twin.id = _free_step_id(state, f"{step.id}-copy")
            twin.sent_ids = ""  # a new step: it was never sent
            steps.insert(i + 1, twin)
        elif name == "add_assertion" and len(args) == 1:
            step.assertions.append(AssertionRow(type="json_path"))
        elif name == "remove_assertion" and len(args) == 2:
            _pop(step.assertions, args[1])
        elif name in ("add_header", "add_query") and len(args) == 1:
            _rows(step, name).append(PairRow())
        elif name in ("remove_header", "remove_query") and len(args) == 2:
            _pop(_rows(step, name), args[1])
        elif name == "add_output" and len(args) == 1:
            step.outputs.append(OutputRow())
        elif name == "remove_output" and len(args) == 2:
            _pop(step.outputs, args[1])
        elif name == "pick_assertion" and len(args) == 1 and picked and picked[0]:
            path, value = picked
            step.assertions.append(
                AssertionRow(type="json_path", target=path, operator="equals", expected=value)
            )
        elif name == "pick_output" and len(args) == 1 and picked and picked[0]:
            step.outputs.append(OutputRow(name=_output_name(step, picked[0]), path=picked[0]))
        else:
            return False
    else:
        return False
    return True


# --- Issue anchors -------------------------------------------------------------------------------


def _pair_anchor(state: EditorState | None, step: int, kind: str, tail: str) -> str:
    """Return the field of the header (query) row an issue names: ``headers.Accept`` points
    at that row's value (the last row of that name: a name given twice is the later row's
    problem), ``headers[2]`` at the third row's name and ``headers[2].value`` at its value,
    ``headers`` alone at the first row's name (or the Add button)."""
    rows = []
    if state is not None and step < len(state.steps):
        rows = state.steps[step].headers if kind == "headers" else state.steps[step].query
    index = re.match(r"^\[(\d+)\](\.value)?", tail[len(kind) :])
    if index and int(index.group(1)) < len(rows):
        return f"request-{kind}-{index.group(1)}-{'value' if index.group(2) else 'name'}"
    name = tail[len(kind) + 1 :].split("[")[0] if tail.startswith(kind + ".") else ""
    for j in reversed(range(len(rows))):
        if name and rows[j].name.strip() == name:
            return f"request-{kind}-{j}-value"
    return f"request-{kind}-0-name" if rows else f"request-{kind}"


_STEP_PATH = re.compile(r"^steps\[(\d+)\](?:\.(.*))?$")
_ROW_PATH = re.compile(r"^(inputs|variables)\[(\d+)\](?:\.(\w+))?")


def issue_anchor(path: str, state: EditorState | None = None) -> str:
    """Return the id of the form field an issue path points at (``steps-2-request-url``)."""
    if path in ("name", "slug", "description", "tags"):
        return "journey-" + ("name" if path == "slug" else path)
    row = _ROW_PATH.match(path)
    if row:
        kind, index, key = row.group(1), row.group(2), row.group(3)
        known = {
            "inputs": ("name", "default", "required", "description"),
            "variables": ("name", "value"),
        }
        return f"{kind}-{index}-{key if key in known[kind] else 'name'}"
    match = _STEP_PATH.match(path)
    if not match:
        return "editor-form"
    i, rest = match.group(1), match.group(2) or ""
    base = f"steps-{i}-"
    head, _, tail = rest.partition(".")
    if head in ("id", "name", "timeout_ms", "always"):
        return base + head
    if head == "retries":
        return base + "retries-count"
    if head == "request":
        field_name = tail.split(".")[0].split("[")[0]
        if field_name in ("json", "form", "body"):
            return base + "request-body"
        if field_name in ("headers", "query"):
            return base + _pair_anchor(state, int(i), field_name, tail)
        if field_name in ("method", "url"):
            return base + "request-" + field_name
        return base + "request-url"
    assertion = re.match(r"assertions\[(\d+)\](?:\.(\w+))?", rest)
    if assertion:
        j, key = assertion.group(1), assertion.group(2) or "type"
        key = {"path": "target", "name": "target", "schema": "expected"}.get(key, key)
        return f"{base}assertions-{j}-{key}"
    output_row = re.match(r"outputs\[(\d+)\]", rest)  # a row with no name to find it by
    if output_row:
        return f"{base}outputs-{output_row.group(1)}-name"
    if head.startswith("outputs") and state is not None:
        name = tail.split(".")[0]
        step_index = int(i)
        if step_index < len(state.steps):
            for j, out in enumerate(state.steps[step_index].outputs):
                if out.name == name:
                    return f"{base}outputs-{j}-name"
    return f"step-{i}"
