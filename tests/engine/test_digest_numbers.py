"""The evidence digest of exact numbers is the same before and after a JSON column (issue 13).

Evidence holds Decimals (`100.10`, `1e400`, 20 digits) since exact JSON columns keep them as
numbers: its canonical form must not change between the evidence the engine made (digested on
write), what the column gives back (digested on verify) and what a client's JSON carries
(``reqflo runs verify``, a CI publish). Rows stored before hold such numbers as strings, and
their canonical form must stay byte for byte what it was.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.engine.digest import canonical_record, seal_digest

# JSON's number syntax, and spellings only the engine reads (`00012`, `+5`, `.5`, `1.`).
NUMBER_TEXTS = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.from_regex(r"[+]?0*[0-9]{1,22}(\.[0-9]{0,20})?", fullmatch=True),
    st.from_regex(r"-?\.[0-9]{1,20}", fullmatch=True),
)


def _record(evidence: Any) -> bytes:
    return canonical_record(run_id="r", index=0, step_id="s", status="passed", evidence=evidence)


@given(NUMBER_TEXTS)
@example("100.10")
@example("1e400")
@example("1e-400")
@example("-0")
@example("-0.0")
@example("00012")
@example("1.5e-07")
@example("0.1000000000000000055511151231257827")
def test_an_exact_numbers_digest_survives_its_json_round_trip(text: str) -> None:
    value = numbers.parse_number(text)
    evidence = {"actual": value, "list": [value, {"nested": value}]}
    stored = numbers.loads(numbers.dumps(evidence))
    assert _record(stored) == _record(evidence)
    assert seal_digest({"inputs": stored}) == seal_digest({"inputs": evidence})


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_and_the_decimal_of_its_text_digest_alike(value: float) -> None:
    """`1.5e-07` and `0.00000015` (as jsonb rewrote a float) are the same evidence."""
    positional = format(Decimal(repr(value)), "f")
    assert _record({"v": numbers.loads(positional)}) == _record({"v": value})


def test_digits_beyond_a_float_still_count() -> None:
    """A trailing zero or a 20th digit is evidence: changing it changes the digest."""
    pairs = [("100.10", "100.1"), ("12345678901234567890.1", "12345678901234567890.2")]
    for one, other in pairs:
        a, b = numbers.parse_number(one), numbers.parse_number(other)
        assert _record({"v": a}) != _record({"v": b})
    assert _record({"v": numbers.parse_number("100.10")}) != _record({"v": "100.10"})


def test_rows_stored_before_keep_their_canonical_bytes() -> None:
    """Exact numbers stored as strings, floats as jsonb returned them: the bytes of before."""
    old = {
        "text": "100.10",
        "digits": "0.1000000000000000055511151231257827",
        "float": 0.1,
        "whole": 1e16,
        "three": 3.0,
        "small": 1.5e-07,
        "nan": math.nan,
        "inf": -math.inf,
    }
    assert _record(old) == (
        b'{"evidence":{"digits":"0.1000000000000000055511151231257827","float":0.1,'
        b'"inf":"-Infinity","nan":"NaN","small":1.5e-07,"text":"100.10",'
        b'"three":3,"whole":10000000000000000},"index":0,"run":"r","status":"passed",'
        b'"step_id":"s"}'
    )


def test_nan_and_infinity_are_named_as_json_cannot_hold_them() -> None:
    named = {"a": "NaN", "b": "Infinity", "c": "-Infinity"}
    for value in (
        {"a": math.nan, "b": math.inf, "c": -math.inf},
        {"a": Decimal("NaN"), "b": Decimal("Infinity"), "c": Decimal("-Infinity")},
    ):
        assert _record(value) == _record(named)
        assert numbers.loads(numbers.dumps(numbers.finite_or_named(value))) == named
