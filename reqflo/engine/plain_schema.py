"""Does a response match a plain JSON Schema? Answered without importing jsonschema.

Importing jsonschema (with referencing, attrs and its meta-schemas) is about a quarter of a
one-step `reqflo run` whose journey has a `json_schema` assertion (docs/benchmarks.md, "CLI
start-up", fifth pass). Most schemas in journeys use a few keywords: `type`, `properties`,
`required`, `items`, `additionalProperties`, size bounds, `enum`, `const`, `pattern`, number
bounds. `PlainSchema.check` applies those itself, as jsonschema's draft 2020-12 validator with
the engine's exact numbers does (`schema_numbers`; `enum` and `const` with jsonschema's
`equal`, `pattern` with `re.search`), and answers None for every schema with any other keyword
of the dialect (`$ref`, `multipleOf`, `patternProperties`, a `$schema`, ...) and for a number it
cannot compare as jsonschema does (NaN, infinite): jsonschema then validates as before. A
response that fails is always described by jsonschema (its messages, its order), so only the
verdict "valid" is given here. tests/engine/test_plain_schema.py holds the verdict to
jsonschema's on generated schemas and instances.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from numbers import Number
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.schema_check import DIALECT_KEYWORDS, SIMPLE_TYPES

# Keywords applied here; every other keyword of the dialect sends the schema to jsonschema.
APPLIED = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
    }
)
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# Annotations: they never fail an instance (`format` asserts nothing without a format checker).
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
# Deeper than this (schema or instance), the answer is left to jsonschema.
MAX_DEPTH = 100


class _Unsure(Exception):
    """The instance is deeper than `MAX_DEPTH`: jsonschema decides."""


def is_plain(schema: Any, depth: int = 0) -> bool:
    """True when every keyword of the dialect `schema` uses is applied here (checked once)."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return False
    for key, value in schema.items():
        if key in ANNOTATIONS or key not in DIALECT_KEYWORDS:
            continue
        if key not in APPLIED or not _plain_value(key, value, depth):
            return False
    return True


def _plain_value(key: str, value: Any, depth: int) -> bool:
    if key == "type":
        names = [value] if isinstance(value, str) else value
        return (
            isinstance(names, list)
            and len(names) > 0
            and all(isinstance(name, str) and name in SIMPLE_TYPES for name in names)
        )
    if key == "properties":
        return isinstance(value, dict) and all(is_plain(v, depth + 1) for v in value.values())
    if key == "required":
        return isinstance(value, list) and all(isinstance(name, str) for name in value)
    if key in ("items", "additionalProperties"):
        return is_plain(value, depth + 1)
    if key == "enum":
        # jsonschema iterates whatever `enum` holds (a string's characters): a list only here.
        return isinstance(value, list) and all(_plain_data(item, depth + 1) for item in value)
    if key == "const":
        return _plain_data(value, depth + 1)
    if key == "pattern":
        # jsonschema runs `re.search(pattern, instance)`: a pattern `re` refuses is its to report.
        if not isinstance(value, str):
            return False
        try:
            re.compile(value)
        except re.error:
            return False
        return True
    if key in BOUNDS:
        return _finite(value)
    # A size bound: a whole number (jsonschema compares it as it is: 2.0 counts as 2).
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and value >= 0
    )


def _finite(value: Any) -> bool:
    """A finite int, float or Decimal (not a bool): what the exact bounds compare."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, Decimal) and value.is_finite()


def _plain_data(value: Any, depth: int) -> bool:
    """JSON data that `_equal` compares without raising (no NaN Decimal: `==` may signal)."""
    if depth > MAX_DEPTH:
        return False
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, list):
        return all(_plain_data(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(_plain_data(item, depth + 1) for item in value.values())
    return False


class PlainSchema:
    """A plain schema (`is_plain`), checked without jsonschema."""

    __slots__ = ("schema",)

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    def check(self, instance: Any) -> bool | None:
        """True or False as jsonschema would answer; None when it is left to jsonschema."""
        try:
            return _valid(self.schema, instance, 0)
        except _Unsure:
            return None


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "null":
        return instance is None
    if name == "boolean":
        return isinstance(instance, bool)
    if isinstance(instance, bool):
        return False
    if name == "number":
        return isinstance(instance, Number)
    # integer, with the engine's exact numbers: 1.0 and an integral Decimal count.
    if isinstance(instance, float):
        return instance.is_integer()
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return isinstance(instance, int)


def _valid(schema: Any, instance: Any, depth: int) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if depth > MAX_DEPTH:
        raise _Unsure
    if "enum" in schema or "const" in schema:
        _check_comparable(instance, depth)
        if "enum" in schema and all(not _equal(each, instance) for each in schema["enum"]):
            return False
        if "const" in schema and not _equal(instance, schema["const"]):
            return False
    kind = schema.get("type")
    if kind is not None:
        names = [kind] if isinstance(kind, str) else kind
        if not any(_is_type(instance, name) for name in names):
            return False
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in instance:
                return False
        if len(instance) < schema.get("minProperties", 0):
            return False
        if "maxProperties" in schema and len(instance) > schema["maxProperties"]:
            return False
        extra = schema.get("additionalProperties", True)
        for name, value in instance.items():
            if name in properties:
                if not _valid(properties[name], value, depth + 1):
                    return False
            elif extra is not True and not _valid(extra, value, depth + 1):
                return False
    elif isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            return False
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            return False
        items = schema.get("items", True)
        if items is not True:
            for item in instance:
                if not _valid(items, item, depth + 1):
                    return False
    elif isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            return False
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            return False
        if "pattern" in schema and re.search(schema["pattern"], instance) is None:
            return False
    elif isinstance(instance, Number) and not isinstance(instance, bool):
        for keyword in BOUNDS:
            if keyword in schema and _beyond(keyword, instance, schema[keyword]):
                return False
    return True


def _beyond(keyword: str, instance: Any, limit: Any) -> bool:
    """Does `instance` fail the bound, compared exactly as `schema_numbers` does?"""
    # A NaN or infinite number (or a Number of another kind) goes to jsonschema's own
    # comparison there, which a NaN can make raise: left to it.
    if not _finite(instance):
        raise _Unsure
    value, exact_limit = numbers.exact(instance), numbers.exact(limit)
    if keyword == "minimum":
        return bool(value < exact_limit)
    if keyword == "maximum":
        return bool(value > exact_limit)
    if keyword == "exclusiveMinimum":
        return bool(value <= exact_limit)
    return bool(value >= exact_limit)


def _check_comparable(instance: Any, depth: int) -> None:
    """Raise `_Unsure` unless `_equal` compares `instance` as jsonschema would, without raising."""
    if not _plain_data(instance, depth):
        raise _Unsure


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's `_utils.equal` (not imported: that imports jsonschema): JSON equality, where
    1 == 1.0 but True != 1, recursing into arrays and objects."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(i, j) for i, j in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and _equal(value, two[key]) for key, value in one.items()
        )
    return bool(_unbool(one) == _unbool(two))


_TRUE = object()
_FALSE = object()


def _unbool(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


class SchemaCheck:
    """A `json_schema` assertion's schema: checked here when plain, else by jsonschema.

    jsonschema's validator is built on first need only: for a response that a plain schema
    finds valid, never.
    """

    __slots__ = ("_plain", "_validator", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._plain = PlainSchema(schema) if is_plain(schema) else None
        self._validator: Any = None

    def surely_valid(self, instance: Any) -> bool:
        """True when the plain check finds `instance` valid (as jsonschema would)."""
        return self._plain is not None and self._plain.check(instance) is True

    @property
    def validator(self) -> Any:
        if self._validator is None:
            # Imported here: jsonschema is loaded only when a schema needs it.
            from reqflo.engine.json_schemas import schema_validator

            # References resolve only inside the schema document: nothing is ever fetched.
            self._validator = schema_validator(self.schema)
        return self._validator

    def is_valid(self, instance: Any) -> bool:
        return bool(self.validator.is_valid(instance))

    def iter_errors(self, instance: Any) -> Any:
        return self.validator.iter_errors(instance)
