"""Fill the editor's form state from a saved document or from a POST."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reqflo.engine import numbers
from reqflo.journeys.editor.packing import FIELD, MEMORY, unpack_steps
from reqflo.journeys.editor.state import (
    INPUT_KEYS,
    JOURNEY_KEYS,
    REQUEST_KEYS,
    STEP_KEYS,
    AssertionRow,
    EditorState,
    InputRow,
    OutputRow,
    PairRow,
    StepForm,
    VariableRow,
    extra_json,
    pair_rows,
    pairs_to_text,
    sent_id_list,
    value_to_text,
)

# --- Document → state ---------------------------------------------------------------------------


def _assertion_row(item: Mapping[str, Any]) -> AssertionRow:
    kind = str(item.get("type", ""))
    row = AssertionRow(
        type=kind, operator=str(item.get("operator", "")), soft=bool(item.get("soft"))
    )
    if kind == "json_path":
        row.target = str(item.get("path", ""))
    elif kind == "header":
        row.target = str(item.get("name", ""))
    if kind == "json_schema":
        row.expected = json.dumps(item.get("schema", {}), ensure_ascii=False, indent=2)
    elif kind == "body_contains":
        row.expected = str(item.get("expected", ""))
    elif "expected" in item:
        row.expected = value_to_text(item["expected"])
    return row


def _output_row(name: str, item: Mapping[str, Any]) -> OutputRow:
    source = str(item.get("from", "body"))
    where = item.get("path") if source == "body" else item.get("name")
    return OutputRow(
        name=name, source=source, path=str(where or ""), secret=bool(item.get("secret"))
    )


def _step_form(item: Mapping[str, Any], aliases: list[str]) -> StepForm:
    request = item.get("request") or {}
    step = StepForm(
        id=str(item.get("id", "")),
        name=str(item.get("name", "")),
        method=str(request.get("method", "GET")).upper(),
        url=str(request.get("url", "")),
        headers=pair_rows(request.get("headers") or {}),
        query=pair_rows(request.get("query") or {}),
        always=bool(item.get("always")),
        assertions=[_assertion_row(a) for a in item.get("assertions") or []],
        outputs=[_output_row(name, o) for name, o in (item.get("outputs") or {}).items()],
        extra=extra_json(item, STEP_KEYS),
        sent_ids=" ".join(sent_id_list(" ".join([str(item.get("id", "")), *aliases]))),
    )
    if "json" in request:
        step.body_kind, step.body = (
            "json",
            numbers.dumps(request["json"], ensure_ascii=False, indent=2),  # every digit kept
        )
    elif "form" in request:
        step.body_kind, step.body = "form", pairs_to_text(request["form"] or {}, ": ")
    elif "body" in request:
        step.body_kind, step.body = "body", str(request["body"])
    if "timeout_ms" in item:
        step.timeout_ms = value_to_text(item["timeout_ms"])
    retries = item.get("retries")
    if isinstance(retries, Mapping):
        step.retries_count = value_to_text(retries.get("count", 0))
        step.retries_delay_ms = value_to_text(retries.get("delay_ms", 0))
    request_extra = {k: v for k, v in request.items() if k not in REQUEST_KEYS}
    if request_extra:  # unknown request keys: keep them so the engine can name them
        extra = json.loads(step.extra) if step.extra else {}
        extra["request"] = request_extra
        step.extra = json.dumps(extra, ensure_ascii=False)
    return step


def state_from_document(
    document: Mapping[str, Any], aliases: Mapping[str, list[str]] | None = None
) -> EditorState:
    """Return the form fields for a (valid or not) document.

    ``aliases`` maps a step id to the ids the step had before (its version's
    ``step_aliases``), so its last-send mark follows it (``StepForm.sent_ids``).
    """
    aliases = aliases or {}
    journey = document.get("journey") if isinstance(document, Mapping) else None
    if not isinstance(journey, Mapping):
        return EditorState()
    tags = journey.get("tags") or []
    return EditorState(
        name=str(journey.get("name", "")),
        description=str(journey.get("description", "")),
        tags=", ".join(str(tag) for tag in tags) if isinstance(tags, list) else str(tags),
        extra=extra_json(journey, JOURNEY_KEYS),
        inputs=[
            InputRow(
                name=str(item.get("name", "")),
                default=value_to_text(item["default"]) if "default" in item else "",
                required=bool(item.get("required", "default" not in item)),
                description=str(item.get("description", "")),
                extra=extra_json(item, INPUT_KEYS),
            )
            for item in journey.get("inputs") or []
            if isinstance(item, Mapping)
        ],
        variables=[
            VariableRow(name=str(item.get("name", "")), value=value_to_text(item.get("value", "")))
            for item in journey.get("variables") or []
            if isinstance(item, Mapping)
        ],
        steps=[
            _saved_step(item, aliases)
            for item in journey.get("steps") or []
            if isinstance(item, Mapping)
        ],
    )


def _saved_step(item: Mapping[str, Any], aliases: Mapping[str, list[str]]) -> StepForm:
    """Return the form of a saved step, through the editor's memory of steps."""
    earlier = aliases.get(str(item.get("id", "")), [])
    # ``repr`` names parsed data exactly (1, 1.0, "1" and True differ).
    return MEMORY.saved(repr((item, earlier)), lambda: _step_form(item, earlier))


# --- Post data → state ---------------------------------------------------------------------------

_INDEXED = re.compile(r"^(inputs|variables|steps)-(\d+)-")
_NESTED = re.compile(r"^steps-(\d+)-(assertions|outputs|request-headers|request-query)-(\d+)-")


def _indices(keys: list[str], pattern: re.Pattern[str], group: str) -> list[int]:
    found = set()
    for key in keys:
        match = pattern.match(key)
        if match and match.group(1) == group:
            found.add(int(match.group(2)))
    return sorted(found)


def state_from_post(data: Mapping[str, str]) -> EditorState:
    """Read the editor's fields from a POST (``QueryDict`` or plain mapping)."""
    return read_post(data)[0]


def read_post(data: Mapping[str, str]) -> tuple[EditorState, list[StepForm] | None]:
    """Return the state a POST describes, and the steps as the posting page's list showed them.

    The second is the packed steps before the posted fields of the step on screen replaced its
    packed copy (what the page's step list was built from), or None without a packed field.
    """
    keys = list(data.keys())

    def text(name: str) -> str:
        return str(data.get(name, "")).replace("\r\n", "\n")

    def flag(name: str) -> bool:
        return name in data and data.get(name) not in ("", "0", "false", None)

    state = EditorState(
        name=text("journey-name"),
        description=text("journey-description"),
        tags=text("journey-tags"),
        extra=text("journey-extra"),
    )
    for i in _indices(keys, _INDEXED, "inputs"):
        p = f"inputs-{i}-"
        state.inputs.append(
            InputRow(
                name=text(p + "name"),
                default=text(p + "default"),
                required=flag(p + "required"),
                description=text(p + "description"),
                extra=text(p + "extra"),
            )
        )
    for i in _indices(keys, _INDEXED, "variables"):
        p = f"variables-{i}-"
        state.variables.append(VariableRow(name=text(p + "name"), value=text(p + "value")))
    nested: dict[tuple[int, str], set[int]] = {}
    for key in keys:
        match = _NESTED.match(key)
        if match:
            nested.setdefault((int(match.group(1)), match.group(2)), set()).add(int(match.group(3)))
    packed = unpack_steps(str(data.get(FIELD, "")))
    shown = list(packed) if packed is not None else None
    for i in _indices(keys, _INDEXED, "steps"):
        p = f"steps-{i}-"
        step = StepForm(
            id=text(p + "id").strip(),
            name=text(p + "name"),
            method=text(p + "request-method") or "GET",
            url=text(p + "request-url"),
            body_kind=text(p + "request-body_kind") or "none",
            body=text(p + "request-body"),
            timeout_ms=text(p + "timeout_ms"),
            retries_count=text(p + "retries-count"),
            retries_delay_ms=text(p + "retries-delay_ms"),
            always=flag(p + "always"),
            extra=text(p + "extra"),
            sent_ids=" ".join(sent_id_list(text(p + "sent_ids"))),
        )
        for j in sorted(nested.get((i, "assertions"), ())):
            q = f"{p}assertions-{j}-"
            step.assertions.append(
                AssertionRow(
                    type=text(q + "type") or "status_code",
                    operator=text(q + "operator"),
                    target=text(q + "target"),
                    expected=text(q + "expected"),
                    soft=flag(q + "soft"),
                )
            )
        for kind, rows in (("request-headers", step.headers), ("request-query", step.query)):
            for j in sorted(nested.get((i, kind), ())):
                q = f"{p}{kind}-{j}-"
                rows.append(PairRow(name=text(q + "name"), value=text(q + "value")))
        for j in sorted(nested.get((i, "outputs"), ())):
            q = f"{p}outputs-{j}-"
            step.outputs.append(
                OutputRow(
                    name=text(q + "name").strip(),
                    source=text(q + "source") or "body",
                    path=text(q + "path"),
                    secret=flag(q + "secret"),
                )
            )
        if packed is not None and i < len(packed):
            packed[i] = step  # the step on screen, as posted, replaces its packed copy
        elif packed is not None:
            packed.append(step)
        else:
            state.steps.append(step)
    if packed is not None:
        state.steps = packed
    return state, shown
