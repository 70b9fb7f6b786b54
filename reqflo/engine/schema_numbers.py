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

import math
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


def _not_finite(value: Any) -> bool:
    """Whether a number is NaN or infinite (a response body may hold them: numbers.loads)."""
    if isinstance(value, float | Decimal):
        return not math.isfinite(value) if isinstance(value, float) else not value.is_finite()
    return False


def _is_nan(value: Any) -> bool:
    return isinstance(value, float | Decimal) and value != value  # NaN is not equal to itself


def _multiple_of(original: Keyword) -> Keyword:
    def multiple_of(validator: Any, dB: Any, instance: Any, schema: dict[str, Any]) -> Any:
        if not validator.is_type(instance, "number"):
            return
        if _not_finite(instance):  # NaN and Infinity are nobody's multiple
            yield ValidationError(
                f"{numbers.text(instance)} is not a multiple of {numbers.text(dB)}"
            )
            return
        if _not_finite(dB):
            yield ValidationError(
                f"{numbers.text(instance)} cannot be checked for being a multiple of "
                f"{numbers.text(dB)}"
            )
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


def _bound(keyword: str) -> Keyword:
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
        if _is_nan(instance) or _is_nan(limit):  # NaN is neither below nor above anything
            yield ValidationError(
                f"{numbers.text(instance)} cannot be compared with the {keyword} of "
                f"{numbers.text(limit)}"
            )
            return
        # An infinite value (a body's Infinity, YAML's .inf) is compared as the infinity it is.
        value = Decimal(instance) if _not_finite(instance) else numbers.exact(instance)
        exact_limit = Decimal(limit) if _not_finite(limit) else numbers.exact(limit)
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
            validators[keyword] = _bound(keyword)
    type_checker = cls.TYPE_CHECKER
    if type_checker.is_type(1.0, "integer"):  # drafts 6+: 1.0 is an integer, so is Decimal 1.0
        original = type_checker
        type_checker = type_checker.redefine(
            "integer", lambda _checker, instance: _is_integer(original, instance)
        )
    return extend(cls, validators=validators, type_checker=type_checker)
