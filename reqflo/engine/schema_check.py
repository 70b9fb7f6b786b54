"""Is a journey's JSON Schema plainly valid? Answered without importing jsonschema.

`reqflo validate` checks every `json_schema` assertion's schema against its dialect's meta-schema.
jsonschema does that, but importing it costs ~60 ms of a ~100 ms `validate`. Most schemas in
journeys use a few keywords with plain values (`type`, `properties`, `required`, `items`,
`enum`, bounds); for those, `plainly_valid` applies the draft 2020-12 meta-schema's rules
itself. It answers True only when it is sure: any other keyword of the dialect (`$ref`, `$defs`,
`if`, ...), a `$schema`, or anything it would refuse sends the schema to jsonschema, which then
gives the verdict and the message. tests/engine/test_schema_check.py holds it to jsonschema's
verdict on generated schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SIMPLE_TYPES = frozenset(("array", "boolean", "integer", "null", "number", "object", "string"))

# Every keyword the draft 2020-12 meta-schemas describe; a keyword outside this list is an
# annotation the meta-schema accepts with any value.
DIALECT_KEYWORDS = frozenset(
    (
        "$anchor", "$comment", "$defs", "$dynamicAnchor", "$dynamicRef", "$id",
        "$recursiveAnchor", "$recursiveRef", "$ref", "$schema", "$vocabulary",
        "additionalProperties", "allOf", "anyOf", "const", "contains", "contentEncoding",
        "contentMediaType", "contentSchema", "default", "definitions", "dependencies",
        "dependentRequired", "dependentSchemas", "deprecated", "description", "else", "enum",
        "examples", "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items",
        "maxContains", "maxItems", "maxLength", "maxProperties", "maximum", "minContains",
        "minItems", "minLength", "minProperties", "minimum", "multipleOf", "not", "oneOf",
        "pattern", "patternProperties", "prefixItems", "properties", "propertyNames",
        "readOnly", "required", "then", "title", "type", "unevaluatedItems",
        "unevaluatedProperties", "uniqueItems", "writeOnly",
    )
)  # fmt: skip


def plainly_valid(schema: Any) -> bool:
    """True when `schema` (no `$schema`: draft 2020-12) surely passes its meta-schema.

    False means "ask jsonschema": the schema may be valid or not.
    """
    if isinstance(schema, dict) and "$schema" in schema:
        return False
    return _schema(schema, depth=0)


def _schema(value: Any, depth: int) -> bool:
    if isinstance(value, bool):
        return True
    if not isinstance(value, dict) or depth > 64:
        return False
    for key, item in value.items():
        if key in _RULES:
            if not _RULES[key](item, depth + 1):
                return False
        elif key in DIALECT_KEYWORDS:
            return False  # a keyword this check does not know: jsonschema decides
    return True


def _number(value: Any, depth: int) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any, depth: int) -> bool:
    # The meta-schema's nonNegativeInteger; jsonschema counts 2.0 as an integer.
    if isinstance(value, float):
        return value.is_integer() and value >= 0
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _string(value: Any, depth: int) -> bool:
    return isinstance(value, str)


def _boolean(value: Any, depth: int) -> bool:
    return isinstance(value, bool)


def _array(value: Any, depth: int) -> bool:
    return isinstance(value, list)


def _anything(value: Any, depth: int) -> bool:
    return True


def _type(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return value in SIMPLE_TYPES
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(name, str) and name in SIMPLE_TYPES for name in value)
        and len(set(value)) == len(value)
    )


def _required(value: Any, depth: int) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(name, str) for name in value)
        and len(set(value)) == len(value)
    )


def _properties(value: Any, depth: int) -> bool:
    return isinstance(value, dict) and all(_schema(item, depth) for item in value.values())


def _schemas(value: Any, depth: int) -> bool:
    return (
        isinstance(value, list) and len(value) > 0 and all(_schema(item, depth) for item in value)
    )


def _multiple_of(value: Any, depth: int) -> bool:
    return _number(value, depth) and value > 0


def _pattern(value: Any, depth: int) -> bool:
    # The meta-schema's `format: regex`, which jsonschema checks by compiling it with `re`.
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


_RULES: dict[str, Callable[[Any, int], bool]] = {
    "type": _type,
    "properties": _properties,
    "required": _required,
    "items": _schema,
    "additionalProperties": _schema,
    "not": _schema,
    "allOf": _schemas,
    "anyOf": _schemas,
    "oneOf": _schemas,
    "enum": _array,
    "const": _anything,
    "default": _anything,
    "examples": _array,
    "minimum": _number,
    "maximum": _number,
    "exclusiveMinimum": _number,
    "exclusiveMaximum": _number,
    "multipleOf": _multiple_of,
    "minLength": _count,
    "maxLength": _count,
    "minItems": _count,
    "maxItems": _count,
    "minProperties": _count,
    "maxProperties": _count,
    "uniqueItems": _boolean,
    "pattern": _pattern,
    "format": _string,
    "title": _string,
    "description": _string,
    "$comment": _string,
    "deprecated": _boolean,
    "readOnly": _boolean,
    "writeOnly": _boolean,
}
