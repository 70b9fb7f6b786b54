"""Turn an artifact's plan into ready-to-run objects once, so each run only renders values.

Templates are parsed, JSONPaths and JSON Schemas compiled and constant subtrees kept as they are
(never copied: rendering returns the very same object for a constant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from reqflo.engine.jsonpaths import Query, compile_query
from reqflo.engine.operators import NO_EXPECTED
from reqflo.engine.values import Ref, Template, cap_value, parse_template, to_text

BODY_ASSERTIONS = frozenset({"json_path", "body_contains", "body_equals", "json_schema"})


class Resolver(Protocol):
    def resolve(self, ref: Ref) -> tuple[Any, bool]:
        """Return (value, sensitive); raise ResolutionError when the reference names nothing."""

    def taint(self, text: str) -> None:
        """Register a string built from a sensitive value so it is redacted."""


class Value:
    """A value from the plan, rendered against a run; `refs` lists the references it uses."""

    __slots__ = ()

    def render(self, scope: Resolver) -> tuple[Any, bool]:
        raise NotImplementedError


class Const(Value):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def render(self, scope: Resolver) -> tuple[Any, bool]:
        return self.value, False


class Interp(Value):
    __slots__ = ("template",)

    def __init__(self, template: Template) -> None:
        self.template = template

    def render(self, scope: Resolver) -> tuple[Any, bool]:
        whole = self.template.whole
        if whole is not None:
            return scope.resolve(whole)
        sensitive = False
        pieces: list[str] = []
        for part in self.template.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                value, secret = scope.resolve(part)
                sensitive = sensitive or secret
                pieces.append(to_text(value))
        text = "".join(pieces)
        if sensitive:
            scope.taint(text)
        return text, sensitive


class DictValue(Value):
    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, Value]]) -> None:
        self.items = items

    def render(self, scope: Resolver) -> tuple[Any, bool]:
        out: dict[str, Any] = {}
        sensitive = False
        for key, value in self.items:
            out[key], secret = value.render(scope)
            sensitive = sensitive or secret
        return out, sensitive


class ListValue(Value):
    __slots__ = ("items",)

    def __init__(self, items: list[Value]) -> None:
        self.items = items

    def render(self, scope: Resolver) -> tuple[Any, bool]:
        out = []
        sensitive = False
        for value in self.items:
            item, secret = value.render(scope)
            out.append(item)
            sensitive = sensitive or secret
        return out, sensitive


def _has_template(obj: Any) -> bool:
    if isinstance(obj, str):
        return "{{" in obj
    if isinstance(obj, dict):
        return any(map(_has_template, obj.values()))
    if isinstance(obj, list):
        return any(map(_has_template, obj))
    return False


def compile_value(obj: Any) -> Value:
    if not _has_template(obj):
        return Const(obj)
    if isinstance(obj, str):
        return Interp(parse_template(obj))
    if isinstance(obj, dict):
        return DictValue([(key, compile_value(item)) for key, item in obj.items()])
    return ListValue([compile_value(item) for item in obj])


@dataclass(slots=True)
class PreparedAssertion:
    index: int
    type: str
    operator: str | None
    target: str | None
    expected: Value | None
    soft: bool
    query: Query | None = None
    validator: Any = None
    schema_record: Any = None
    # Filled on first evaluation when `expected` holds no reference: the claim sentence and
    # the recorded expected value are then the same for every run.
    static: bool = True
    claim: str | None = None
    expected_record: Any = None


@dataclass(slots=True)
class PreparedOutput:
    name: str
    source: str
    key: str | None
    query: Query | None
    secret: bool


@dataclass(slots=True)
class PreparedStep:
    index: int
    id: str
    name: str
    always: bool
    method: str
    url: Value
    headers: list[tuple[str, Value]]
    query: list[tuple[str, Value]]
    body_kind: str | None
    body: Value | None
    timeout_ms: float | None
    retries: int
    delay_ms: float
    follow_redirects: bool | None
    idempotency_key: bool | None
    assertions: list[PreparedAssertion]
    outputs: list[PreparedOutput]
    has_status_assertion: bool
    keep_body: bool
    keep_headers: bool
    needs_whole_body: bool


@dataclass(slots=True)
class PreparedPlan:
    steps: list[PreparedStep]
    variables: dict[str, Value]
    secret_inputs: frozenset[str]
    input_names: tuple[str, ...]
    secret_outputs: dict[str, frozenset[str]]
    idempotency_key: bool


def _assertion(index: int, data: dict[str, Any]) -> PreparedAssertion:
    kind = data["type"]
    operator = data.get("operator")
    expected = None
    if "expected" in data and operator not in NO_EXPECTED:
        expected = compile_value(data["expected"])
    target = data.get("path") or data.get("name")
    prepared = PreparedAssertion(index, kind, operator, target, expected, data.get("soft", False))
    prepared.static = expected is None or isinstance(expected, Const)
    if kind == "json_path":
        prepared.query = compile_query(data["path"])
    elif kind == "json_schema":
        schema = data["schema"]
        # jsonschema is loaded only when this schema needs it (reqflo.engine.plain_schema).
        from reqflo.engine.plain_schema import SchemaCheck

        prepared.validator = SchemaCheck(schema)
        prepared.schema_record = cap_value(schema)
    return prepared


def _output(name: str, data: dict[str, Any]) -> PreparedOutput:
    query = compile_query(data["path"]) if data["from"] == "body" else None
    return PreparedOutput(name, data["from"], data.get("name"), query, data.get("secret", False))


def _referenced_steps(plan: dict[str, Any], field: str) -> set[str]:
    """Return the ids of steps whose `field` (body, headers) later steps or variables use."""
    owners = [*plan["steps"], *plan["variables"]]
    return {
        ref["step"]
        for owner in owners
        for ref in owner["references"]
        if ref["kind"] == "step" and ref["field"] == field
    }


def prepare_plan(plan: dict[str, Any]) -> PreparedPlan:
    """Build the runnable form of a plan (the caller caches it on the Artifact)."""
    body_users = _referenced_steps(plan, "body")
    header_users = _referenced_steps(plan, "headers")
    steps = []
    for index, step in enumerate(plan["steps"]):
        request = step["request"]
        body_kind = next((k for k in ("json", "form", "body") if k in request), None)
        assertions = [_assertion(i, a) for i, a in enumerate(step["assertions"])]
        steps.append(
            PreparedStep(
                index=index,
                id=step["id"],
                name=step["name"],
                always=step["always"],
                method=request["method"],
                url=compile_value(request["url"]),
                headers=[(k, compile_value(v)) for k, v in request["headers"].items()],
                query=[(k, compile_value(v)) for k, v in request["query"].items()],
                body_kind=body_kind,
                body=compile_value(request[body_kind]) if body_kind else None,
                timeout_ms=step["timeout_ms"],
                retries=step["retries"]["count"],
                delay_ms=step["retries"]["delay_ms"],
                follow_redirects=step["follow_redirects"],
                idempotency_key=step["idempotency_key"],
                assertions=assertions,
                outputs=[_output(n, o) for n, o in step["outputs"].items()],
                has_status_assertion=any(a.type == "status_code" for a in assertions),
                keep_body=step["id"] in body_users,
                keep_headers=step["id"] in header_users,
                needs_whole_body=step["id"] in body_users
                or any(a.type in BODY_ASSERTIONS for a in assertions)
                or any(o["from"] == "body" for o in step["outputs"].values()),
            )
        )
    return PreparedPlan(
        steps=steps,
        variables={v["name"]: compile_value(v["value"]) for v in plan["variables"]},
        secret_inputs=frozenset(i["name"] for i in plan["inputs"] if i.get("secret")),
        input_names=tuple(i["name"] for i in plan["inputs"]),
        secret_outputs={
            s["id"]: frozenset(n for n, o in s["outputs"].items() if o.get("secret"))
            for s in plan["steps"]
        },
        idempotency_key=plan["journey"]["idempotency_key"],
    )
