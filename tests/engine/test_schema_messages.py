"""JSON Schema failure messages spell values as JSON, never as Python.

jsonschema writes the values it quotes with ``repr()``: an enum of ``[{'x': 1}, True, None]``,
``'id' is a required property``, ``Decimal('1.5') was expected``. A user wrote JSON (or YAML)
and reads a response in JSON, so the messages (a failed assertion's evidence, and
``reqflo validate``'s "invalid JSON Schema") re-spell every quoted value with `show`. The
values here are drawn from letters only, so any quote character, `True`, `False`, `None` or
`Decimal(` left in a message can only be Python's spelling.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, load_definition, numbers
from reqflo.engine.assertions import _schema_error
from reqflo.engine.json_schemas import schema_validator
from reqflo.engine.operators import show

PYTHON_SPELLING = re.compile(r"'|\bTrue\b|\bFalse\b|\bNone\b|Decimal\(")

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    words,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(words, inner, min_size=1, max_size=3)
    ),
    max_leaves=6,
)


def messages(schema: Any, instance: Any) -> list[str]:
    # The instance as the engine holds a response body: parsed from JSON text, exact numbers.
    body = numbers.loads(numbers.dumps(instance))
    return [_schema_error(error) for error in schema_validator(schema).iter_errors(body)]


def failing_cases(value: Any, other: Any, name: str) -> list[tuple[dict[str, Any], Any]]:
    """Schemas of every keyword that quotes a value in its message, with an instance each
    refuses (``other`` differs from ``value``)."""
    return [
        ({"enum": [value, {"k": value}, True, None]}, other),
        ({"const": value}, other),
        ({"type": ["string", "null"]}, {"k": value}),
        ({"required": [name]}, {}),
        ({"properties": {}, "additionalProperties": False}, {name: value}),
        ({"dependentRequired": {name: [name + "x"]}}, {name: value}),
        ({"not": {"const": value}}, value),
        ({"oneOf": [{"const": value}, {"enum": [value]}]}, value),
        ({"pattern": "^[0-9]+$"}, name),
        ({"uniqueItems": True}, [value, value]),
        ({"maxProperties": 0}, {name: value}),
        ({"propertyNames": {"maxLength": 0}}, {name: value}),
    ]


@settings(max_examples=150, deadline=None)
@given(value=values, other=values, name=words)
def test_a_failing_response_is_described_in_json_spelling(
    value: Any, other: Any, name: str
) -> None:
    for schema, instance in failing_cases(value, other, name):
        if numbers.dumps(instance) == numbers.dumps(value) and "not" not in schema:
            continue  # the drawn instance happens to be valid for enum/const
        described = messages(schema, instance)
        for message in described:
            assert not PYTHON_SPELLING.search(message), (schema, instance, message)
        if "enum" in schema and described:
            # The value the user wrote appears exactly as show() spells it.
            assert show(value, 80) in described[0] or len(show(value, 80)) > 60


@pytest.mark.parametrize(
    ("schema", "instance", "expected"),
    [
        pytest.param(
            {"enum": [{"x": 1}, True, None, "a"]},
            "b",
            '$: "b" is not one of [{"x": 1}, true, null, "a"]',
            id="enum",
        ),
        pytest.param({"const": True}, None, "$: true was expected", id="const"),
        pytest.param({"required": ["id"]}, {}, '$: "id" is a required property', id="required"),
        pytest.param(
            {"additionalProperties": False},
            {"x": 1},
            '$: Additional properties are not allowed ("x" was unexpected)',
            id="additional",
        ),
        pytest.param(
            {"type": ["string", "null"]},
            False,
            '$: false is not of type "string", "null"',
            id="type",
        ),
        pytest.param({"const": 1.5}, 2.5, "$: 1.5 was expected", id="decimal-const"),
        # A string that reads like a Python literal stays the string it is.
        pytest.param(
            {"enum": ["True", True]},
            "true",
            '$: "true" is not one of ["True", true]',
            id="lookalike",
        ),
    ],
)
def test_each_keyword_message_reads_as_json(schema: Any, instance: Any, expected: str) -> None:
    assert messages(schema, instance) == [expected]


def test_an_invalid_schema_in_a_journey_is_described_in_json_spelling() -> None:
    text = """
journey:
  name: J
  steps:
    - id: a
      request: {method: GET, url: "http://127.0.0.1:9/"}
      assertions:
        - type: json_schema
          schema: {type: object, properties: {a: {type: [string, string]}}}
        - type: json_schema
          schema: {properties: {a: {required: [true, null]}}}
"""
    with pytest.raises(DefinitionError) as caught:
        load_definition(text)
    issues = caught.value.issues
    described = [i.message for i in issues if i.code == "invalid_schema"]
    assert len(described) == 2, issues
    for message in described:
        assert not PYTHON_SPELLING.search(message), message
