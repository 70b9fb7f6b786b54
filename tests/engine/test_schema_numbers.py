"""JSON Schema number keywords on the engine's exact numbers (Decimals of more than 15 digits).

``multipleOf`` with a float raised ``TypeError`` on a Decimal; bounds took a float in the schema
as its binary value. Now both are exact, taking a schema's ``0.01`` as the decimal it spells;
the truth in these tests is computed with ``Fraction`` from the texts.
"""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.engine.json_schemas import schema_validator
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

STEPS = [0.01, 0.5, 0.1, 3, 7, 0.001, 2.5, 1e-7]
BOUNDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]


@st.composite
def long_numbers(draw: st.DrawFn) -> str:
    """JSON text of a number with more significant digits than a float keeps."""
    whole = draw(st.integers(min_value=10**15, max_value=10**40))
    sign = draw(st.sampled_from(["", "-"]))
    if draw(st.booleans()):
        return f"{sign}{whole}"
    fraction = draw(st.from_regex(r"[0-9]{1,20}", fullmatch=True))
    return f"{sign}{whole}.{fraction}"


def exact(text_or_number: Any) -> Fraction:
    return Fraction(Decimal(str(text_or_number)))


@settings(max_examples=300, deadline=None)
@given(text=long_numbers(), step=st.sampled_from(STEPS))
def test_multiple_of_is_exact_on_long_numbers(text: str, step: float) -> None:
    value = numbers.loads(text)

    errors = [e.message for e in schema_validator({"multipleOf": step}).iter_errors(value)]

    truth = (exact(text) / exact(step)).denominator == 1
    assert (not errors) == truth, errors
    if errors:
        # The value is spelled as the number it is (1000000000000000.00 may read
        # 1000000000000000.0): the same number, exactly, whatever its trailing zeros.
        [message] = errors
        shown, _, rest = message.partition(" is not a multiple of ")
        assert rest == str(step)
        assert exact(shown) == exact(text)


@settings(max_examples=300, deadline=None)
@given(
    text=long_numbers(),
    keyword=st.sampled_from(BOUNDS),
    bound=st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers()),
    near=st.booleans(),
)
def test_bounds_compare_long_numbers_with_the_decimal_the_schema_spells(
    text: str, keyword: str, bound: float | int, near: bool
) -> None:
    value = numbers.loads(text)
    if near:  # a bound a float cannot tell from the value
        bound = float(value)
    valid = schema_validator({keyword: bound}).is_valid(value)

    a, b = exact(text), exact(repr(bound) if isinstance(bound, float) else bound)
    truth = {
        "minimum": a >= b,
        "maximum": a <= b,
        "exclusiveMinimum": a > b,
        "exclusiveMaximum": a < b,
    }[keyword]
    assert valid == truth


def test_integral_decimals_are_integers_and_others_are_not() -> None:
    validator = schema_validator({"type": "integer"})
    assert validator.is_valid(numbers.loads("12345678901234567890.000"))
    assert validator.is_valid(numbers.loads("123456789012345678901234567890"))
    assert not validator.is_valid(numbers.loads("12345678901234567890.5"))


def test_a_float_multiple_is_the_decimal_it_spells() -> None:
    assert schema_validator({"multipleOf": 0.1}).is_valid(0.3)
    assert not schema_validator({"multipleOf": 0.1}).is_valid(0.35)


def test_a_number_too_large_to_divide_fails_with_its_reason() -> None:
    [error] = schema_validator({"multipleOf": 0.1}).iter_errors(numbers.loads("1e5000"))
    assert "too large to divide exactly" in error.message


def test_draft_4_bounds_on_long_numbers_do_not_raise() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "multipleOf": 0.01,
        "maximum": 1,
        "exclusiveMaximum": True,
    }
    validator = schema_validator(schema)
    assert validator.is_valid(numbers.loads("0.99000000000000000000"))
    assert not validator.is_valid(numbers.loads("0.99999999999999999999"))


BODY = (
    '{"big": 123456789012345678901234567891, "amount": 12345678901234567.89,'
    ' "odd": 12345678901234567.891, "long": 0.1000000000000000000001}'
)


def test_a_json_schema_assertion_checks_a_response_of_long_numbers(targets: Targets) -> None:
    schema = {
        "type": "object",
        "properties": {
            "big": {"type": "integer", "multipleOf": 3},
            "amount": {"multipleOf": 0.01, "minimum": 0.5},
            "odd": {"multipleOf": 0.01},
            "long": {"exclusiveMaximum": 0.1},
        },
    }
    journey = textwrap.dedent(
        f"""
        journey:
          name: Long numbers
          steps:
            - id: numbers
              request: {{method: GET, url: "{{{{ env.base_url }}}}/unhex?d={BODY.encode().hex()}"}}
              assertions:
                - {{type: json_schema, schema: {json.dumps(schema)}}}
        """
    )

    result = run_text(journey, targets.main.base_url)

    [assertion] = result.steps[0].attempts[-1].assertions
    assert not assertion.passed
    assert "TypeError" not in assertion.message
    assert "$.odd: 12345678901234567.891 is not a multiple of 0.01" in assertion.message
    assert (
        "$.long: 0.1000000000000000000001 is greater than or equal to the maximum of 0.1"
        in assertion.message
    )
    # 1+2+…+9+0 three times, plus 1: 136, no multiple of 3; the others hold.
    assert "$.big" in assertion.message
    assert "$.amount" not in assertion.message


NOT_FINITE = [float("nan"), Decimal("NaN"), float("inf"), float("-inf"), Decimal("-Infinity")]
LIMITS = [5, 0.1, Decimal("0.1"), numbers.loads("12345678901234567890.5")]


@given(
    value=st.sampled_from([*NOT_FINITE, 3, -2.5, Decimal("0.1")]),
    limit=st.sampled_from([float("inf"), float("-inf"), float("nan")]),
    keyword=st.sampled_from([*BOUNDS, "multipleOf"]),
)
def test_a_bound_that_is_not_finite_gets_an_answer_in_words(
    value: Any, limit: float, keyword: str
) -> None:
    """YAML can write a schema's bound as .inf or .nan: compared as what it is, never raised."""
    errors = [e.message for e in schema_validator({keyword: limit}).iter_errors(value)]

    assert all("inf" not in e and "nan" not in e for e in errors), errors  # JSON's names
    if keyword == "multipleOf":
        assert len(errors) == 1
    elif value != value or limit != limit:
        assert errors == [
            f"{numbers.text(value)} cannot be compared with the {keyword} of {numbers.text(limit)}"
        ]


@given(
    value=st.sampled_from(NOT_FINITE),
    limit=st.sampled_from(LIMITS),
    keyword=st.sampled_from([*BOUNDS, "multipleOf"]),
)
def test_nan_and_infinity_in_a_body_get_an_answer_in_words_never_an_exception(
    value: Any, limit: Any, keyword: str
) -> None:
    """A body may hold NaN or Infinity (numbers.loads reads them): a Decimal bound once raised
    InvalidOperation on a NaN, multipleOf ValueError. NaN meets no bound and Infinity is no
    number's multiple; an infinite value is compared as the infinity it is."""
    errors = [e.message for e in schema_validator({keyword: limit}).iter_errors(value)]

    nan = value != value
    name = "NaN" if nan else ("Infinity" if value > 0 else "-Infinity")
    if keyword == "multipleOf":
        assert errors == [f"{name} is not a multiple of {numbers.text(limit)}"]
    elif nan:
        assert errors == [f"NaN cannot be compared with the {keyword} of {numbers.text(limit)}"]
    else:
        below = keyword in ("minimum", "exclusiveMinimum")
        assert bool(errors) == (below == (value < 0)), errors
        assert all(e.startswith(f"{name} is ") for e in errors)
