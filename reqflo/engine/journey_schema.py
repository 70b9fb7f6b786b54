"""The journey document schema (DESIGN.md section 4), normalising as it validates.

Normalised assertions always carry an explicit operator, so the compiled plan states exactly what
is checked even when the author relied on a default.
"""

from __future__ import annotations

import re
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.errors import suggest
from reqflo.engine.jsonpaths import InvalidPath, compile_query
from reqflo.engine.operators import NO_EXPECTED, NUMERIC, OPERATORS, TYPE_NAMES, json_spelled
from reqflo.engine.schema import (
    AnyValue,
    Bool,
    Custom,
    Field,
    ListOf,
    MapOf,
    Num,
    Obj,
    Scalar,
    Str,
    Walk,
    collect_templates,
    join,
    type_name,
)
from reqflo.engine.schema_check import plainly_valid

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ASSERTION_TYPES = (
    "status_code",
    "json_path",
    "header",
    "body_contains",
    "body_equals",
    "response_time",
    "json_schema",
)
OUTPUT_SOURCES = ("body", "header", "status", "cookie")
STATUS_OPERATORS = ("equals", "not_equals", "in", "not_in", *sorted(NUMERIC))
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]*"
NAME_HINT = "use letters, digits, '_' and '-', starting with a letter or '_'"
STEP_ID_PATTERN = r"[a-z0-9_-]+"
STATUS_CLASS = re.compile(r"[1-5]xx", re.IGNORECASE)


def _jsonpath(value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, str):
        walk.error(path, "wrong_type", f"expected a JSONPath string, got {type_name(value)}")
        return value
    try:
        compile_query(value)
    except InvalidPath as exc:
        walk.error(path, "invalid_jsonpath", f"'{value}' is not a valid JSONPath: {exc}")
    return value


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _status_expected(value: Any, path: str, walk: Walk) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        walk.error(path, "empty", "list at least one status code")
    for index, item in enumerate(items):
        where = join(path, index) if isinstance(value, list) else path
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            continue
        if isinstance(item, str) and STATUS_CLASS.fullmatch(item):
            continue
        walk.error(
            where,
            "invalid_status",
            f"{item!r} is not a status code; use a number 100-599 or a class like '2xx'",
        )


def _expected_for(operator: str, value: Any, path: str, walk: Walk) -> None:
    """Check the expected value's shape for the operator (templates are checked at run time)."""
    collect_templates(value, path, walk)
    if _is_template(value):
        return
    number = numbers.is_number(value)
    if operator in NUMERIC and not number:
        walk.error(path, "wrong_type", f"'{operator}' compares numbers, got {type_name(value)}")
    elif operator in ("in", "not_in") and not isinstance(value, list):
        walk.error(path, "wrong_type", f"'{operator}' needs a list, got {type_name(value)}")
    elif operator == "is_type" and value not in TYPE_NAMES:
        names = ", ".join(TYPE_NAMES)
        walk.error(
            path,
            "invalid_choice",
            f"{value!r} is not a type; use one of {names}{suggest(str(value), TYPE_NAMES)}",
        )
    elif operator == "length_equals" and not (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ):
        walk.error(path, "wrong_type", f"'length_equals' needs a whole number, got {value!r}")
    elif operator == "matches":
        if not isinstance(value, str):
            walk.error(
                path, "wrong_type", f"'matches' needs a regex string, got {type_name(value)}"
            )
        else:
            try:
                re.compile(value)
            except re.error as exc:
                walk.error(path, "invalid_regex", f"{value!r} is not a valid regex: {exc}")


_COMMON = {"type": Field(Str()), "soft": Field(Bool(), default=False)}
_ASSERTION_FIELDS: dict[str, dict[str, Field]] = {
    "status_code": {"operator": Field(Str()), "expected": Field(AnyValue(), required=True)},
    "json_path": {
        "path": Field(Custom(_jsonpath), required=True),
        "operator": Field(Str()),
        "expected": Field(AnyValue()),
    },
    "header": {
        "name": Field(Str(), required=True),
        "operator": Field(Str()),
        "expected": Field(AnyValue()),
    },
    "body_contains": {"expected": Field(Str(templated=True), required=True)},
    "body_equals": {"expected": Field(AnyValue(templated=True), required=True)},
    "response_time": {"operator": Field(Str()), "expected": Field(AnyValue(), required=True)},
    "json_schema": {"schema": Field(AnyValue(), required=True)},
}


def _assertion(value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, dict):
        walk.error(path, "wrong_type", f"expected a mapping, got {type_name(value)}")
        return {}
    kind = value.get("type")
    if kind not in ASSERTION_TYPES:
        where = join(path, "type")
        if kind is None:
            walk.error(
                where, "missing_key", f"'type' is required: one of {', '.join(ASSERTION_TYPES)}"
            )
        else:
            walk.error(
                where,
                "unknown_assertion",
                f"unknown assertion type {kind!r}{suggest(str(kind), ASSERTION_TYPES)}",
            )
        return value
    fields = {**_COMMON, **_ASSERTION_FIELDS[kind]}
    out: dict[str, Any] = Obj(fields, what=f"key for a {kind} assertion").check(value, path, walk)
    operator = out.get("operator")
    has_expected = "expected" in out
    if kind == "status_code":
        operator = _status_operator(operator, out.get("expected"), join(path, "operator"), walk)
        if not _is_template(out.get("expected")):
            _status_expected(out.get("expected"), join(path, "expected"), walk)
    elif kind == "response_time":
        operator = operator or "less_than"
        _check_operator(operator, sorted(NUMERIC), join(path, "operator"), walk)
        if not _is_template(out.get("expected")):
            Num(minimum=0).check(out.get("expected"), join(path, "expected"), walk)
    elif kind in ("json_path", "header"):
        operator = operator or ("equals" if has_expected else "exists")
        if _check_operator(operator, OPERATORS, join(path, "operator"), walk):
            if operator in NO_EXPECTED and has_expected:
                walk.error(
                    join(path, "expected"),
                    "unexpected_value",
                    f"'{operator}' takes no expected value",
                )
            elif operator not in NO_EXPECTED and not has_expected:
                walk.error(
                    join(path, "expected"), "missing_key", f"'{operator}' needs an expected value"
                )
            elif has_expected:
                _expected_for(operator, out["expected"], join(path, "expected"), walk)
    elif kind == "json_schema":
        _schema(out.get("schema"), join(path, "schema"), walk)
    if operator is not None:
        out["operator"] = operator
    return out


def _check_operator(operator: Any, allowed: Any, path: str, walk: Walk) -> bool:
    if operator in allowed:
        return True
    walk.error(
        path,
        "unknown_operator",
        f"unknown operator {operator!r}{suggest(str(operator), allowed)}"
        if operator not in OPERATORS
        else f"operator '{operator}' does not apply here; use one of {', '.join(allowed)}",
    )
    return False


def _status_operator(operator: Any, expected: Any, path: str, walk: Walk) -> str:
    if operator is None:
        return "in" if isinstance(expected, list) else "equals"
    _check_operator(operator, STATUS_OPERATORS, path, walk)
    if operator == "equals" and isinstance(expected, list):
        return "in"
    if operator == "not_equals" and isinstance(expected, list):
        return "not_in"
    return str(operator)


def _schema(value: Any, path: str, walk: Walk) -> None:
    if not isinstance(value, dict | bool):
        walk.error(path, "wrong_type", f"expected a JSON Schema object, got {type_name(value)}")
        return
    if isinstance(value, dict) and not isinstance(value.get("$schema", ""), str):
        # jsonschema looks the dialect up by it: a list or an object would make it raise.
        got = type_name(value["$schema"])
        walk.error(f"{path}.$schema", "invalid_schema", f"'$schema' must be a string, got {got}")
        return
    if plainly_valid(value):
        return  # surely valid: no need to import jsonschema (~60 ms) to say so
    # Imported here: only schemas the plain check cannot vouch for pay for jsonschema.
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(value).check_schema(value)
    except SchemaError as exc:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path)
        message = json_spelled(exc.message, (exc.instance, exc.validator_value))
        walk.error(path + where, "invalid_schema", f"invalid JSON Schema: {message}")


def _output(value: Any, path: str, walk: Walk) -> Any:
    fields = {
        "from": Field(Str(choices=OUTPUT_SOURCES), required=True),
        "path": Field(Custom(_jsonpath)),
        "name": Field(Str()),
        "secret": Field(Bool(), default=False),
    }
    out: dict[str, Any] = Obj(fields, what="output key").check(value, path, walk)
    source = out.get("from")
    if source not in OUTPUT_SOURCES:
        return out
    needs = {"body": "path", "header": "name", "cookie": "name"}.get(str(source))
    if needs and needs not in out:
        walk.error(join(path, needs), "missing_key", f"'{needs}' is required for from: {source}")
    for other in ("path", "name"):
        if other in out and other != needs:
            walk.error(
                join(path, other), "unexpected_value", f"'{other}' is not used with from: {source}"
            )
    return out


def _outputs(value: Any, path: str, walk: Walk) -> Any:
    outputs = MapOf(Custom(_output)).check(value, path, walk)
    for name in outputs:
        if not re.fullmatch(NAME_PATTERN, name):
            walk.error(
                join(path, name),
                "invalid_format",
                f"'{name}' is not a valid output name: {NAME_HINT}",
            )
    return outputs


def _request(value: Any, path: str, walk: Walk) -> Any:
    fields = {
        "method": Field(Str(choices=METHODS, fold_case=True), required=True),
        "url": Field(Str(templated=True), required=True),
        "headers": Field(MapOf(Scalar()), default=dict),
        "query": Field(MapOf(Scalar(allow_list=True)), default=dict),
        "json": Field(AnyValue(templated=True)),
        "form": Field(MapOf(Scalar())),
        "body": Field(Str(templated=True, non_empty=False)),
    }
    out: dict[str, Any] = Obj(fields, what="request key").check(value, path, walk)
    bodies = [key for key in ("json", "form", "body") if key in out]
    if len(bodies) > 1:
        walk.error(
            join(path, bodies[1]),
            "conflicting_body",
            f"use only one of json, form and body (found {' and '.join(bodies)})",
        )
    return out


def _retries(value: Any, path: str, walk: Walk) -> Any:
    fields = {
        "count": Field(Num(minimum=0, integer=True), default=0),
        "delay_ms": Field(Num(minimum=0), default=0),
    }
    return Obj(fields, what="retries key").check(value, path, walk)


def _name_str() -> Str:
    return Str(pattern=NAME_PATTERN, pattern_hint=NAME_HINT)


INPUT = Obj(
    {
        "name": Field(_name_str(), required=True),
        "required": Field(Bool()),
        "default": Field(AnyValue()),
        "type": Field(
            Str(choices=("string", "number", "integer", "boolean", "object", "array", "any"))
        ),
        "secret": Field(Bool(), default=False),
        "description": Field(Str(non_empty=False)),
    },
    what="input key",
)
VARIABLE = Obj(
    {
        "name": Field(_name_str(), required=True),
        "value": Field(AnyValue(templated=True), required=True),
    },
    what="variable key",
)
STEP = Obj(
    {
        "id": Field(
            Str(pattern=STEP_ID_PATTERN, pattern_hint="use a-z, 0-9, '_' and '-'"), required=True
        ),
        "name": Field(Str()),
        "description": Field(Str(non_empty=False)),
        "tags": Field(ListOf(Str()), default=list),
        "request": Field(Custom(_request), required=True),
        "timeout_ms": Field(Num(minimum=1)),
        "assertions": Field(ListOf(Custom(_assertion)), default=list),
        "outputs": Field(Custom(_outputs), default=dict),
        "retries": Field(Custom(_retries)),
        "always": Field(Bool(), default=False),
        "follow_redirects": Field(Bool()),
        "idempotency_key": Field(Bool()),
    },
    what="step key",
)
JOURNEY = Obj(
    {
        "name": Field(Str(), required=True),
        "slug": Field(
            Str(pattern=r"[a-z0-9]+(?:-[a-z0-9]+)*", pattern_hint="use a-z, 0-9 and '-'")
        ),
        "description": Field(Str(non_empty=False), default=""),
        "tags": Field(ListOf(Str()), default=list),
        "idempotency_key": Field(Bool(), default=False),
        "inputs": Field(ListOf(INPUT), default=list),
        "variables": Field(ListOf(VARIABLE), default=list),
        "steps": Field(ListOf(STEP, non_empty=True), required=True),
    },
    what="journey key",
)
DOCUMENT = Obj({"journey": Field(JOURNEY, required=True)}, what="top-level key")
