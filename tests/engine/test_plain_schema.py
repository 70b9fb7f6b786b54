"""The plain schema check answers as jsonschema does, for every schema it takes on.

A `json_schema` assertion whose schema is plain (`is_plain`) finds a valid response valid
without importing jsonschema; anything else, and every failure, is jsonschema's to describe. So
the verdict must be jsonschema's own (with the engine's exact numbers) on every plain schema and
instance: compared here on generated ones, and through a whole run in tests/cli/test_startup.py.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
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
        st.sampled_from([2**64, -(2**70) - 1, 10**30]),
        st.sampled_from([0.0, -0.0, 1.0, -2.0, 2.5, 0.1, 1e300, float("inf"), float("-inf")]),
        st.just(float("nan")),
        st.sampled_from(
            [
                Decimal("3"),
                Decimal("3.5"),
                Decimal("1E+2"),
                Literal("4.0"),
                Literal("0.1000000000000000055511151231257827"),
                Literal("1" + "0" * 30),
                Literal("-0"),
                Decimal("NaN"),
                Decimal("Infinity"),
            ]
        ),
        st.text(max_size=4),
        st.sampled_from(["ord_1", "xord_", "ORD_", "é", "e\u0301", "٣", "a\nb", "paid"]),
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
# Bounds and enum/const values: ints, floats and exact Decimals that are and are not the same
# number (1, 1.0, Decimal 1; 0.1 as a float and as the Decimal it prints as), and booleans.
limits = st.sampled_from(
    [0, 1, -2, 3, 2**64, 10**30, 0.0, 1.0, 0.1, 2.5, -2.0, 1e300, Decimal("3"), Literal("0.1")]
)
data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        limits,
        st.sampled_from([0, 1, 0.0, 1.0, float("nan"), "paid", "1", "é", ""]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
    ),
    max_leaves=6,
)
patterns = st.sampled_from(
    ["", "^ord_", "ord_$", "_", "^\\d+$", "\\w", "(?i)^ORD", "é", "^.$", "^[^a]*$", "a|^$", "\\Z"]
)


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
            "enum": st.lists(data, max_size=3),
            "const": data,
            "pattern": patterns,
            "minimum": limits,
            "maximum": limits,
            "exclusiveMinimum": limits,
            "exclusiveMaximum": limits,
            "title": st.just("t"),
            "format": st.sampled_from(["email", "date-time"]),
            "x-note": st.integers(),
        },
    )


schemas: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.booleans(), st.just({})), _plain_schemas, max_leaves=8
)


@settings(max_examples=2000, deadline=None)
@given(schemas, instances)
@example({"enum": [1]}, 1.0)
@example({"enum": [1]}, True)
@example({"const": True}, 1)
@example({"const": [0, {"a": 1.0}]}, [False, {"a": 1}])
@example({"const": [0, {"a": 1.0}]}, [0.0, {"a": Decimal("1")}])
@example({"enum": [0.1]}, Literal("0.1000000000000000055511151231257827"))
@example({"const": float("nan")}, float("nan"))
@example({"pattern": "^ord_"}, "xord_")
@example({"pattern": "_"}, "ord_1")
@example({"pattern": "ord_$"}, "xord_")
@example({"pattern": "é"}, "e\u0301")
@example({"pattern": "^\\d+$"}, "٣")
@example({"pattern": "^.$"}, "a\n")
@example({"exclusiveMinimum": 0}, -0.0)
@example({"exclusiveMinimum": 0.1}, Literal("0.1000000000000000055511151231257827"))
@example({"maximum": 0.1}, Literal("0.1000000000000000055511151231257827"))
@example({"minimum": 0.1}, Literal("0.1"))
@example({"exclusiveMaximum": Literal("0.1")}, 0.1)
@example({"minimum": 2**64}, float(2**64))
@example({"maximum": 10**30}, 1e30)
@example({"minimum": 0}, True)
@example({"type": "integer"}, 1.0)
@example({"type": "integer"}, Literal("4.0"))
@example({"type": "integer"}, float("inf"))
@example({"type": "number"}, True)
@example({"items": {"type": "string"}, "minItems": 2.0}, ["a", "b"])
@example({"properties": {"a": False}, "additionalProperties": {"type": "null"}}, {"b": None})
def test_the_plain_verdict_is_jsonschemas(schema: Any, instance: Any) -> None:
    _assert_same_verdict(schema, instance)


def _assert_same_verdict(schema: Any, instance: Any) -> None:
    assert is_plain(schema)
    verdict = PlainSchema(schema).check(instance)
    try:
        expected = schema_validator(schema).is_valid(instance)
    except InvalidOperation:
        # A NaN against a Decimal bound: jsonschema's own comparison raises (and still does
        # after the plain check, which never calls such an instance valid).
        assert verdict is not True
        return

    assert verdict is expected or verdict is None
    assert SchemaCheck(schema).surely_valid(instance) is (verdict is True)
    # Only a number the bounds cannot compare exactly (NaN, infinite) is left undecided.
    if verdict is None:
        assert _holds_non_finite(instance)


# One value keyword at a time, against scalars: most pairs are decided either way.
value_schemas = st.one_of(
    st.builds(lambda p: {"pattern": p}, patterns),
    st.builds(lambda v: {"enum": v}, st.lists(data, max_size=3)),
    st.builds(lambda v: {"const": v}, data),
    st.builds(
        lambda k, v: {k: v},
        st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
        limits,
    ),
)


@settings(max_examples=1500, deadline=None)
@given(value_schemas, st.one_of(data, instances))
def test_each_value_keyword_gives_jsonschemas_verdict(schema: Any, instance: Any) -> None:
    _assert_same_verdict(schema, instance)


def _holds_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, Decimal):
        return not value.is_finite()
    if isinstance(value, list):
        return any(_holds_non_finite(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_non_finite(item) for item in value.values())
    return False


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"exclusiveMinimum": 0}, float("nan")),
        ({"minimum": 0}, float("inf")),
        ({"maximum": 0}, Decimal("NaN")),
        ({"enum": [1]}, [Decimal("NaN")]),
    ],
)
def test_a_number_the_plain_check_cannot_compare_is_left_to_jsonschema(
    schema: Any, instance: Any
) -> None:
    assert PlainSchema(schema).check(instance) is None
    assert not SchemaCheck(schema).surely_valid(instance)


def test_any_other_keyword_leaves_the_schema_to_jsonschema() -> None:
    others = DIALECT_KEYWORDS - APPLIED - {"title", "description", "$comment", "default"}
    others -= {"examples", "deprecated", "readOnly", "writeOnly", "format"}
    assert {"$ref", "multipleOf", "patternProperties", "uniqueItems", "$schema"} <= others
    for keyword in others:
        assert not is_plain({"type": "object", keyword: 1})
        assert not is_plain({"properties": {"a": {keyword: 1}}})
        assert not is_plain({"items": {"additionalProperties": {keyword: 1}}})
    assert not is_plain({"type": "strng"})
    assert not is_plain({"minItems": -1})
    assert not is_plain({"minItems": 1.5})
    assert not is_plain({"required": "a"})
    assert not is_plain({"enum": "ab"})  # jsonschema would take it as ["a", "b"]
    assert not is_plain({"enum": [Decimal("NaN")]})
    assert not is_plain({"pattern": "("})
    assert not is_plain({"pattern": 1})
    for bad in (True, float("nan"), float("inf"), Decimal("Infinity"), "1", None):
        assert not is_plain({"minimum": bad})
        assert not is_plain({"exclusiveMaximum": bad})


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
