"""The form view of the editor: a journey as plain form fields, and back to a document.

``EditorState`` holds exactly what the user typed (strings, checkboxes), so a page that fails
validation re-renders their input untouched. ``state_from_document`` fills it from a saved
version; ``document_from_state`` builds the document the engine validates, reporting field
problems (a JSON body that does not parse, a timeout that is not a number) as ``Issue``s with
the same paths the engine uses. Keys the form has no field for (a step's ``tags``, an input's
``type``) ride along in a hidden JSON field, so saving from the form never drops them.

Field names mirror definition paths: ``steps-2-request-url`` is ``steps[2].request.url``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from reqflo.engine import Issue

# (value, label) pairs: the form shows words, the document keeps the engine's names.
ASSERTION_TYPES = (
    ("status_code", "Status code"),
    ("json_path", "JSON value"),
    ("header", "Header"),
    ("body_contains", "Body contains"),
    ("body_equals", "Body equals"),
    ("response_time", "Time (ms)"),
    ("json_schema", "JSON schema"),
)
# Assertion types that read a JSONPath or a header name, and those that take an operator.
TARGETED_TYPES = frozenset({"json_path", "header"})
OPERATOR_TYPES = frozenset({"status_code", "json_path", "header", "response_time"})
OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "exists",
    "not_exists",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "matches",
    "in",
    "not_in",
    "is_type",
    "length_equals",
    "is_empty",
    "not_empty",
)
# The operator list as the form shows it; the blank choice lets the engine pick its default.
OPERATOR_CHOICES = tuple((name, name.replace("_", " ")) for name in OPERATORS)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_KINDS = (
    ("none", "No body"),
    ("json", "JSON"),
    ("form", "Form fields (name: value per line)"),
    ("body", "Raw text"),
)
OUTPUT_SOURCES = (
    ("body", "Body (JSONPath)"),
    ("header", "Header"),
    ("status", "Status code"),
    ("cookie", "Cookie"),
)

_STEP_KEYS = {"id", "name", "request", "timeout_ms", "retries", "always", "assertions", "outputs"}
_REQUEST_KEYS = {"method", "url", "headers", "query", "json", "form", "body"}
_JOURNEY_KEYS = {"name", "description", "tags", "inputs", "variables", "steps"}
_INPUT_KEYS = {"name", "default", "required", "description"}
_CONTAINER_KEYS = ("journey",)

_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- Scalar values as text ---------------------------------------------------------------------


def text_to_value(text: str) -> Any:
    """Read a typed value the way YAML would (``200`` a number, ``[200, 201]`` a list).

    Text holding a ``{{ reference }}`` stays a string: YAML would read the braces as a mapping.
    Anything YAML cannot read is kept as the string the user typed.
    """
    stripped = text.strip()
    if "{{" in stripped or stripped == "":
        return stripped
    try:
        value = yaml.load(stripped, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return stripped
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return stripped  # dates and other YAML types: keep the text


def value_to_text(value: Any) -> str:
    """Write a value so that ``text_to_value`` reads it back unchanged."""
    if isinstance(value, str) and text_to_value(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _pairs_to_text(mapping: Mapping[str, Any], separator: str) -> str:
    return "\n".join(f"{key}{separator}{value_to_text(value)}" for key, value in mapping.items())


def _text_to_pairs(
    text: str, separator: str, path: str, issues: list[Issue], what: str
) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, found, value = line.partition(separator)
        if not found or not key.strip():
            issues.append(
                Issue(
                    "error",
                    "invalid_line",
                    path,
                    f"line {number} of the {what} should read 'name{separator}value'",
                )
            )
            continue
        pairs[key.strip()] = text_to_value(value)
    return pairs


# --- State ---------------------------------------------------------------------------------------


@dataclass
class AssertionRow:
    type: str = "status_code"
    operator: str = ""
    target: str = ""
    expected: str = ""
    soft: bool = False


@dataclass
class OutputRow:
    name: str = ""
    source: str = "body"
    path: str = ""
    secret: bool = False


@dataclass
class StepForm:
    id: str = ""
    name: str = ""
    method: str = "GET"
    url: str = ""
    headers: str = ""
    query: str = ""
    body_kind: str = "none"
    body: str = ""
    timeout_ms: str = ""
    retries_count: str = ""
    retries_delay_ms: str = ""
    always: bool = False
    assertions: list[AssertionRow] = field(default_factory=list)
    outputs: list[OutputRow] = field(default_factory=list)
    extra: str = ""  # JSON of the step keys the form has no field for


@dataclass
class InputRow:
    name: str = ""
    default: str = ""
    required: bool = False
    description: str = ""
    extra: str = ""


@dataclass
class VariableRow:
    name: str = ""
    value: str = ""


@dataclass
class EditorState:
    name: str = ""
    description: str = ""
    tags: str = ""
    extra: str = ""
    inputs: list[InputRow] = field(default_factory=list)
    variables: list[VariableRow] = field(default_factory=list)
    steps: list[StepForm] = field(default_factory=list)


def _extra(mapping: Mapping[str, Any], known: set[str]) -> str:
    rest = {key: value for key, value in mapping.items() if key not in known}
    return json.dumps(rest, ensure_ascii=False) if rest else ""


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


def _step_form(item: Mapping[str, Any]) -> StepForm:
    request = item.get("request") or {}
    step = StepForm(
        id=str(item.get("id", "")),
        name=str(item.get("name", "")),
        method=str(request.get("method", "GET")).upper(),
        url=str(request.get("url", "")),
        headers=_pairs_to_text(request.get("headers") or {}, ": "),
        query=_pairs_to_text(request.get("query") or {}, "="),
        always=bool(item.get("always")),
        assertions=[_assertion_row(a) for a in item.get("assertions") or []],
        outputs=[_output_row(name, o) for name, o in (item.get("outputs") or {}).items()],
        extra=_extra(item, _STEP_KEYS),
    )
    if "json" in request:
        step.body_kind, step.body = (
            "json",
            json.dumps(request["json"], ensure_ascii=False, indent=2),
        )
    elif "form" in request:
        step.body_kind, step.body = "form", _pairs_to_text(request["form"] or {}, ": ")
    elif "body" in request:
        step.body_kind, step.body = "body", str(request["body"])
    if "timeout_ms" in item:
        step.timeout_ms = value_to_text(item["timeout_ms"])
    retries = item.get("retries")
    if isinstance(retries, Mapping):
        step.retries_count = value_to_text(retries.get("count", 0))
        step.retries_delay_ms = value_to_text(retries.get("delay_ms", 0))
    request_extra = {k: v for k, v in request.items() if k not in _REQUEST_KEYS}
    if request_extra:  # unknown request keys: keep them so the engine can name them
        extra = json.loads(step.extra) if step.extra else {}
        extra["request"] = request_extra
        step.extra = json.dumps(extra, ensure_ascii=False)
    return step


def state_from_document(document: Mapping[str, Any]) -> EditorState:
    """Return the form fields for a (valid or not) document."""
    journey = document.get("journey") if isinstance(document, Mapping) else None
    if not isinstance(journey, Mapping):
        return EditorState()
    tags = journey.get("tags") or []
    return EditorState(
        name=str(journey.get("name", "")),
        description=str(journey.get("description", "")),
        tags=", ".join(str(tag) for tag in tags) if isinstance(tags, list) else str(tags),
        extra=_extra(journey, _JOURNEY_KEYS),
        inputs=[
            InputRow(
                name=str(item.get("name", "")),
                default=value_to_text(item["default"]) if "default" in item else "",
                required=bool(item.get("required", "default" not in item)),
                description=str(item.get("description", "")),
                extra=_extra(item, _INPUT_KEYS),
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
            _step_form(item) for item in journey.get("steps") or [] if isinstance(item, Mapping)
        ],
    )


# --- Post data → state ---------------------------------------------------------------------------

_INDEXED = re.compile(r"^(inputs|variables|steps)-(\d+)-")
_NESTED = re.compile(r"^steps-(\d+)-(assertions|outputs)-(\d+)-")


def _indices(keys: list[str], pattern: re.Pattern[str], group: str) -> list[int]:
    found = set()
    for key in keys:
        match = pattern.match(key)
        if match and match.group(1) == group:
            found.add(int(match.group(2)))
    return sorted(found)


def state_from_post(data: Mapping[str, str]) -> EditorState:
    """Read the editor's fields from a POST (``QueryDict`` or plain mapping)."""
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
    for i in _indices(keys, _INDEXED, "steps"):
        p = f"steps-{i}-"
        step = StepForm(
            id=text(p + "id").strip(),
            name=text(p + "name"),
            method=text(p + "request-method") or "GET",
            url=text(p + "request-url"),
            headers=text(p + "request-headers"),
            query=text(p + "request-query"),
            body_kind=text(p + "request-body_kind") or "none",
            body=text(p + "request-body"),
            timeout_ms=text(p + "timeout_ms"),
            retries_count=text(p + "retries-count"),
            retries_delay_ms=text(p + "retries-delay_ms"),
            always=flag(p + "always"),
            extra=text(p + "extra"),
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
        state.steps.append(step)
    return state


# --- State → document ----------------------------------------------------------------------------


def _json_extra(text: str, path: str, issues: list[Issue]) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        issues.append(Issue("error", "invalid_extra", path, "hidden field was damaged; reload"))
        return {}
    return value if isinstance(value, dict) else {}


def _number(text: str, path: str, issues: list[Issue]) -> int | float | None:
    value = text_to_value(text)
    if value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
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
            item["schema"] = json.loads(row.expected or "{}")
        except json.JSONDecodeError as exc:
            issues.append(
                Issue("error", "invalid_json", f"{path}.schema", f"the schema is not JSON: {exc}")
            )
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


def _step(step: StepForm, index: int, issues: list[Issue]) -> dict[str, Any]:
    path = f"steps[{index}]"
    extra = _json_extra(step.extra, path, issues)
    request: dict[str, Any] = {"method": step.method.upper(), "url": step.url.strip()}
    headers = _text_to_pairs(step.headers, ":", f"{path}.request.headers", issues, "headers")
    if headers:
        request["headers"] = headers
    query = _text_to_pairs(step.query, "=", f"{path}.request.query", issues, "query")
    if query:
        request["query"] = query
    if step.body_kind == "json" and step.body.strip():
        try:
            request["json"] = json.loads(step.body)
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
    elif step.body_kind == "form" and step.body.strip():
        request["form"] = _text_to_pairs(step.body, ":", f"{path}.request.form", issues, "form")
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


def document_from_state(state: EditorState) -> tuple[dict[str, Any], list[Issue]]:
    """Build the document the form describes, plus the field problems found on the way.

    The document is returned even with problems, so the YAML view can still show it.
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
    journey["steps"] = [_step(step, i, issues) for i, step in enumerate(state.steps)]
    # Keys without a field (``slug``, ``idempotency_key``…) go back near the top, where
    # authors write them, rather than after a long list of steps.
    extra = _json_extra(state.extra, "", issues)
    head = {key: journey.pop(key) for key in ("name", "description", "tags") if key in journey}
    return {"journey": {**head, **extra, **journey}}, issues


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


def apply_operation(state: EditorState, operation: str) -> bool:
    """Apply one editor button (``add_step``, ``move_up:3``, ``remove_output:2:0``…).

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
        elif name == "duplicate_step" and len(args) == 1:
            twin = copy.deepcopy(step)
            twin.id = _free_step_id(state, f"{step.id}-copy")
            steps.insert(i + 1, twin)
        elif name == "add_assertion" and len(args) == 1:
            step.assertions.append(AssertionRow(type="json_path", target="$."))
        elif name == "remove_assertion" and len(args) == 2:
            _pop(step.assertions, args[1])
        elif name == "add_output" and len(args) == 1:
            step.outputs.append(OutputRow(path="$."))
        elif name == "remove_output" and len(args) == 2:
            _pop(step.outputs, args[1])
        else:
            return False
    else:
        return False
    return True


# --- Issue anchors -------------------------------------------------------------------------------

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
        if field_name in ("method", "url", "headers", "query"):
            return base + "request-" + field_name
        return base + "request-url"
    assertion = re.match(r"assertions\[(\d+)\](?:\.(\w+))?", rest)
    if assertion:
        j, key = assertion.group(1), assertion.group(2) or "type"
        key = {"path": "target", "name": "target", "schema": "expected"}.get(key, key)
        return f"{base}assertions-{j}-{key}"
    if head.startswith("outputs") and state is not None:
        name = tail.split(".")[0]
        step_index = int(i)
        if step_index < len(state.steps):
            for j, out in enumerate(state.steps[step_index].outputs):
                if out.name == name:
                    return f"{base}outputs-{j}-name"
    return f"step-{i}"
