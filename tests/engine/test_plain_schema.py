"""The plain schema check answers as jsonschema does, for every schema it takes on.

A `json_schema` assertion whose schema is plain (`is_plain`) finds a valid response valid
without importing jsonschema; anything else, and every failure, is jsonschema's to describe. So
the verdict must be jsonschema's own (with the engine's exact numbers) on every plain schema and
instance: compared here on generated ones, and through a whole run in tests/cli/test_startup.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.json_schemas import schema_validator
from reqflo.engine.numbers import Literal
from reqflo.engine.plain_schema import APPLIED, PlainSchema, SchemaCheck, is_plain
from reqflo.engine.schema_check import DIALECT_KEYWORDS, SIMPLE_TYPES

NAMES = ["a", "b", "c"]

instances = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=3),
        st.sampled_from([0.0, 1.0, -2.0, 2.5, 1e300, float("inf"), float("-inf")]),
        st.sampled_from([Decimal("3"), Decimal("3.5"), Decimal("1E+2"), Literal("4.0")]),
        st.text(max_size=4),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(NAMES), children, max_size=4),
    ),
    max_leaves=12,
)

types = st.one_of(
    st.sampled_from(sorted(SIMPLE_TYPES)),
    st.lists(st.sampled_from(sorted(SIMPLE_TYPES)), min_size=1, max_size=3, unique=True),
)
sizes = st.one_of(st.integers(min_value=0, max_value=4), st.sampled_from([0.0, 2.0]))


def _plain_schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "type": types,
            "properties": st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
            "required": st.lists(st.sampled_from(NAMES), max_size=3, unique=True),
            "items": children,
            "additionalProperties": children,
            "minLength": sizes,
            "maxLength": sizes,
            "minItems": sizes,
            "maxItems": sizes,
            "minProperties": sizes,
            "maxProperties": sizes,
            "title": st.just("t"),
            "format": st.sampled_from(["email", "date-time"]),
            "x-note": st.integers(),
        },
    )


schemas = st.recursive(st.one_of(st.booleans(), st.just({})), _plain_schemas, max_leaves=8)


@settings(max_examples=1500, deadline=None)
@given(schemas, instances)
@example({"type": "integer"}, 1.0)
@example({"type": "integer"}, Literal("4.0"))
@example({"type": "integer"}, float("inf"))
@example({"type": "number"}, True)
@example({"items": {"type": "string"}, "minItems": 2.0}, ["a", "b"])
@example({"properties": {"a": False}, "additionalProperties": {"type": "null"}}, {"b": None})
def test_the_plain_verdict_is_jsonschemas(schema: Any, instance: Any) -> None:
    assert is_plain(schema)
    expected = schema_validator(schema).is_valid(instance)

    assert PlainSchema(schema).check(instance) is expected
    assert SchemaCheck(schema).surely_valid(instance) is expected


def test_any_other_keyword_leaves_the_schema_to_jsonschema() -> None:
    others = DIALECT_KEYWORDS - APPLIED - {"title", "description", "$comment", "default"}
    others -= {"examples", "deprecated", "readOnly", "writeOnly", "format"}
    assert {"$ref", "enum", "const", "pattern", "minimum", "multipleOf", "$schema"} <= others
    for keyword in others:
        assert not is_plain({"type": "object", keyword: 1})
        assert not is_plain({"properties": {"a": {keyword: 1}}})
        assert not is_plain({"items": {"additionalProperties": {keyword: 1}}})
    assert not is_plain({"type": "strng"})
    assert not is_plain({"minItems": -1})
    assert not is_plain({"minItems": 1.5})
    assert not is_plain({"required": "a"})


def test_a_failure_is_described_by_jsonschema() -> None:
    check = SchemaCheck({"type": "object", "required": ["sku"]})

    assert not check.surely_valid({"name": "x"})
    assert not check.is_valid({"name": "x"})
    assert [e.message for e in check.iter_errors({"name": "x"})] == ["'sku' is a required property"]


def test_a_schema_deeper_than_the_plain_check_goes_is_left_to_jsonschema() -> None:
    schema: Any = {"type": "array"}
    instance: Any = []
    for _ in range(150):
        schema = {"items": schema}
        instance = [instance]
    check = SchemaCheck(schema)

    assert not is_plain(schema)
    assert not check.surely_valid(instance)
    assert check.is_valid(instance)
