"""JSON Schema number keywords that keep the engine's exact numbers exact.

A response number with more digits than a float holds reaches a schema as a ``Decimal``
(see ``numbers``). jsonschema's own ``multipleOf`` divides it by a float bound and raises
``TypeError`` (and finds the float ``0.3`` no multiple of ``0.1``); its comparisons take a
float bound (``0.1``) as its binary value, not the decimal the schema spells; and its
``integer`` type does not count an integral Decimal. The validators here compare and divide
exactly, taking a float in the schema as the decimal number it prints as (as every other
comparison in the engine does), and say the numbers as JSON does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import extend

from reqflo.engine import numbers

# A number whose decimal exponent is beyond this is not divided (its exact fraction would have
# that many digits); multipleOf says so instead of working for minutes.
MAX_EXPONENT = 1000

Keyword = Callable[[Any, Any, Any, dict[str, Any]], Iterator[ValidationError]]


def _exact(value: Any) -> Fraction | None:
    """Return the exact fraction a number spells (a float as it prints), None if too large."""
    exact = numbers.exact(value)
    if isinstance(exact, Decimal) and (
        not exact.is_finite() or abs(exact.adjusted()) > MAX_EXPONENT
    ):
        return None
    return Fraction(exact)


def _multiple_of(original: Keyword) -> Keyword:
    def multiple_of(validator: Any, dB: Any, instance: Any, schema: dict[str, Any]) -> Any:
        if not validator.is_type(instance, "number"):
            return
        if isinstance(dB, int) and isinstance(instance, int):
            yield from original(validator, dB, instance, schema)
            return
        value, step = _exact(instance), _exact(dB)
        if value is None or step is None or step == 0:
            yield ValidationError(
                f"{numbers.text(instance)} cannot be checked for being a multiple of "
                f"{numbers.text(dB)} (a number too large to divide exactly)"
            )
            return
        if (value / step).denominator != 1:
            yield ValidationError(
                f"{numbers.text(instance)} is not a multiple of {numbers.text(dB)}"
            )

    return multiple_of


def _bound(original: Keyword, keyword: str) -> Keyword:
    words = {
        "minimum": "less than the minimum of",
        "maximum": "greater than the maximum of",
        "exclusiveMinimum": "less than or equal to the minimum of",
        "exclusiveMaximum": "greater than or equal to the maximum of",
    }[keyword]

    def fails(value: Any, limit: Any) -> bool:
        if keyword == "minimum":
            return bool(value < limit)
        if keyword == "maximum":
            return bool(value > limit)
        if keyword == "exclusiveMinimum":
            return bool(value <= limit)
        return bool(value >= limit)

    def bound(validator: Any, limit: Any, instance: Any, schema: dict[str, Any]) -> Any:
        if not validator.is_type(instance, "number") or not numbers.is_number(limit):
            return
        try:
            value, exact_limit = numbers.exact(instance), numbers.exact(limit)
        except ValueError:  # an infinite float (not JSON, but Python can pass one)
            yield from original(validator, limit, instance, schema)
            return
        if fails(value, exact_limit):
            message = f"{numbers.text(instance)} is {words} {numbers.text(limit)}"
            yield ValidationError(message)

    return bound


def _is_integer(checker: Any, instance: Any) -> bool:
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return bool(checker.is_type(instance, "integer"))


@cache
def exact_numbers(cls: Any) -> Any:
    """Return ``cls`` extended with exact number keywords (drafts 6 and later: every bound is
    its own keyword; drafts 3 and 4 keep jsonschema's comparisons, which never raise)."""
    validators: dict[str, Keyword] = {}
    if "multipleOf" in cls.VALIDATORS:
        validators["multipleOf"] = _multiple_of(cls.VALIDATORS["multipleOf"])
    if "exclusiveMinimum" in cls.VALIDATORS:
        for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            validators[keyword] = _bound(cls.VALIDATORS[keyword], keyword)
    type_checker = cls.TYPE_CHECKER
    if type_checker.is_type(1.0, "integer"):  # drafts 6+: 1.0 is an integer, so is Decimal 1.0
        original = type_checker
        type_checker = type_checker.redefine(
            "integer", lambda _checker, instance: _is_integer(original, instance)
        )
    return extend(cls, validators=validators, type_checker=type_checker)
