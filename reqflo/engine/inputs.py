"""Merge run inputs by precedence and coerce text values (`--set`, CSV) to declared types.

The type of an input is its declared `type`, else the type of its default; text such as "3" from
a command line or a CSV cell becomes 3 for a number input, so it keeps its type in a JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.compiler import Artifact
from reqflo.engine.definition import Definition
from reqflo.engine.depth import check_value, loads_data
from reqflo.engine.errors import DefinitionError, Issue, quoted

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _declarations(source: Definition | Artifact) -> list[dict[str, Any]]:
    if isinstance(source, Artifact):
        return list(source.plan["inputs"])
    return [
        {
            "name": d.name,
            "type": d.type,
            "secret": d.secret,
            **({"default": d.default} if d.has_default else {}),
        }
        for d in source.inputs
    ]


def _declared_type(decl: Mapping[str, Any]) -> str | None:
    if decl.get("type"):
        return str(decl["type"])
    default = decl.get("default")
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float | Decimal):
        return "number"
    if isinstance(default, dict):
        return "object"
    if isinstance(default, list):
        return "array"
    return None


def coerce(value: Any, type_: str | None, *, secret: bool = False) -> Any:
    """Convert text to the declared type; raise ValueError with the reason.

    The reason quotes the value, except for a ``secret`` input: then it says only what is wrong.
    """
    if not isinstance(value, str) or type_ in (None, "any", "string"):
        return value
    shown = "the value (secret, not shown)" if secret else quoted(value)
    text = value.strip()
    if type_ == "integer":
        try:
            number = numbers.parse_number(text)
        except ValueError:
            raise ValueError(f"{shown} is not a whole number") from None
        if not numbers.is_integral(number):
            raise ValueError(f"{shown} is not a whole number")
        return number  # an int, or a Literal keeping the text (`00012`)
    if type_ == "number":
        # Exact: integer text stays an int of any size, decimals keep every digit, and text
        # an int or float would print differently (`00012`, `100.10`) is kept as written.
        try:
            return numbers.parse_number(text)
        except ValueError:
            raise ValueError(f"{shown} is not a number") from None
    if type_ == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{shown} is not true or false")
    try:
        parsed = loads_data(text, f"the JSON {type_} text")
    except json.JSONDecodeError:
        raise ValueError(f"{shown} is not JSON {type_} text") from None
    if not isinstance(parsed, dict if type_ == "object" else list):
        raise ValueError(f"{shown} is not a JSON {type_}")
    return parsed


def merge_inputs(
    source: Definition | Artifact,
    *,
    case: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    row: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge default < case < overrides (--set) < row; keep undeclared names for the Run check."""
    decls = _declarations(source)
    merged: dict[str, Any] = {d["name"]: d["default"] for d in decls if "default" in d}
    for layer in (case, overrides, row):
        if layer:
            merged.update(layer)
    types = {d["name"]: _declared_type(d) for d in decls}
    secret = {d["name"] for d in decls if d.get("secret")}
    issues = []
    for name, value in merged.items():
        try:
            # Every walk of an input (templates, redaction, reports) recurses per level.
            check_value(value, "the value")
            merged[name] = coerce(value, types.get(name), secret=name in secret)
        except ValueError as exc:
            issues.append(Issue("error", "invalid_input", f"inputs.{name}", str(exc)))
    if issues:
        raise DefinitionError(issues)
    return merged
