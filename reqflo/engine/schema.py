"""A small declarative schema walker that collects every problem with its exact path.

Each node checks one value, appends Issues to the shared Walk and returns the normalised value
(defaults filled in), so one pass both validates and normalises a document. It exists instead of
jsonschema because our messages must name the path precisely and suggest the nearest valid key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reqflo.engine.errors import Issue, suggest
from reqflo.engine.values import ReferenceSyntaxError, Template, parse_template

_MISSING = object()


@dataclass
class Walk:
    """Shared state of one validation pass: issues and the templates found, by path."""

    issues: list[Issue] = field(default_factory=list)
    templates: list[tuple[str, Template]] = field(default_factory=list)

    def error(self, path: str, code: str, message: str) -> None:
        self.issues.append(Issue("error", code, path, message))

    @property
    def ok(self) -> bool:
        return not self.issues


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Node:
    def check(self, value: Any, path: str, walk: Walk) -> Any:
        raise NotImplementedError


def collect_templates(value: Any, path: str, walk: Walk) -> Any:
    """Parse every `{{ }}` in strings nested in value, recording syntax errors by path."""
    if isinstance(value, str):
        if "{{" in value:
            try:
                walk.templates.append((path, parse_template(value)))
            except ReferenceSyntaxError as exc:
                walk.error(path, "invalid_reference", str(exc))
    elif isinstance(value, dict):
        for key, item in value.items():
            collect_templates(item, join(path, str(key)), walk)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            collect_templates(item, join(path, index), walk)
    return value


@dataclass
class Str(Node):
    pattern: str | None = None
    pattern_hint: str = ""
    choices: tuple[str, ...] = ()
    templated: bool = False
    fold_case: bool = False
    non_empty: bool = True

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if not isinstance(value, str):
            walk.error(path, "wrong_type", f"expected a string, got {type_name(value)}")
            return value
        if self.fold_case:
            value = value.upper()
        if self.non_empty and not value.strip():
            walk.error(path, "empty", "must not be empty")
        elif self.choices and value not in self.choices:
            options = ", ".join(self.choices)
            walk.error(
                path,
                "invalid_choice",
                f"'{value}' is not one of {options}{suggest(value, self.choices)}",
            )
        elif self.pattern and not re.fullmatch(self.pattern, value):
            walk.error(path, "invalid_format", f"'{value}' is not valid: {self.pattern_hint}")
        if self.templated:
            collect_templates(value, path, walk)
        return value


@dataclass
class Num(Node):
    minimum: float | None = None
    integer: bool = False

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        wanted = int if self.integer else int | float | Decimal
        if isinstance(value, bool) or not isinstance(value, wanted):
            what = "an integer" if self.integer else "a number"
            walk.error(path, "wrong_type", f"expected {what}, got {type_name(value)}")
        elif self.minimum is not None and value < self.minimum:
            walk.error(path, "out_of_range", f"must be at least {self.minimum:g}, got {value}")
        return value


class Bool(Node):
    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if not isinstance(value, bool):
            walk.error(path, "wrong_type", f"expected true or false, got {type_name(value)}")
        return value


@dataclass
class AnyValue(Node):
    templated: bool = False

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        problem = _not_json(value)
        if problem:
            walk.error(path, "wrong_type", problem)
            return None
        return collect_templates(value, path, walk) if self.templated else value


def _not_json(value: Any) -> str | None:
    """Return why value is not plain JSON data (YAML can produce dates, sets, bytes...)."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float | Decimal):  # a Decimal: a decimal with more digits than a float
        return None if Decimal(value).is_finite() else f"{value} is not a JSON number"
    if isinstance(value, list):
        return next((p for p in map(_not_json, value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "mapping keys must be strings (quote numeric keys)"
        return next((p for p in map(_not_json, value.values()) if p), None)
    return f"{type(value).__name__} values are not allowed; use a string"


@dataclass
class ListOf(Node):
    item: Node
    non_empty: bool = False

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if not isinstance(value, list):
            walk.error(path, "wrong_type", f"expected a list, got {type_name(value)}")
            return []
        if self.non_empty and not value:
            walk.error(path, "empty", "must contain at least one item")
        return [self.item.check(item, join(path, i), walk) for i, item in enumerate(value)]


@dataclass
class MapOf(Node):
    value: Node

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if not isinstance(value, dict):
            walk.error(path, "wrong_type", f"expected a mapping, got {type_name(value)}")
            return {}
        return {str(k): self.value.check(v, join(path, str(k)), walk) for k, v in value.items()}


@dataclass
class Scalar(Node):
    """A string, number or boolean, as header, query and form values are."""

    templated: bool = True
    allow_list: bool = False

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if self.allow_list and isinstance(value, list):
            return [
                Scalar(self.templated).check(v, join(path, i), walk) for i, v in enumerate(value)
            ]
        if value is None or isinstance(value, dict | list):
            walk.error(
                path, "wrong_type", f"expected a string, number or boolean, got {type_name(value)}"
            )
        elif self.templated:
            collect_templates(value, path, walk)
        return value


@dataclass
class Custom(Node):
    fn: Callable[[Any, str, Walk], Any]

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        return self.fn(value, path, walk)


@dataclass
class Field:
    node: Node
    required: bool = False
    default: Any = _MISSING


@dataclass
class Obj(Node):
    """A mapping with known keys; unknown keys are errors with the nearest valid key."""

    fields: dict[str, Field]
    what: str = "key"

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        if not isinstance(value, Mapping):
            walk.error(path, "wrong_type", f"expected a mapping, got {type_name(value)}")
            return {}
        out: dict[str, Any] = {}
        for key in value:
            if key not in self.fields:
                walk.error(
                    join(path, str(key)),
                    "unknown_key",
                    f"unknown {self.what} '{key}'{suggest(str(key), self.fields)}",
                )
        for name, spec in self.fields.items():
            if name in value:
                out[name] = spec.node.check(value[name], join(path, name), walk)
            elif spec.required:
                walk.error(join(path, name), "missing_key", f"'{name}' is required")
            elif spec.default is not _MISSING:
                default = spec.default
                out[name] = default() if callable(default) else default
        return out
