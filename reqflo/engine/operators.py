"""Assertion operators: what each one expects and how it compares an actual value.

Comparisons never coerce silently except where the subject is text by nature (headers): a number
expected against a header's text compares as a number when the text is numeric. Numbers compare
exactly (see `numbers`): "9007199254740993" is greater than 9007199254740992, and a float is the
decimal number it prints as.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.errors import quoted
from reqflo.engine.redaction.cuts import cut_text


class _Missing:
    """The actual value of a JSONPath that matched nothing or a header that is absent."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

NO_EXPECTED = frozenset({"exists", "not_exists", "is_empty", "not_empty"})
NUMERIC = frozenset({"greater_than", "greater_or_equal", "less_than", "less_or_equal"})
TYPE_NAMES = ("string", "number", "integer", "boolean", "array", "object", "null")
OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "exists",
    "not_exists",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "matches",
    "in",
    "not_in",
    "is_type",
    "length_equals",
    "is_empty",
    "not_empty",
)


class NotComparable(ValueError):
    """The actual value has a shape the operator cannot judge; the message says why."""


def _number(value: Any) -> int | Decimal:
    """Return the exact number a value is or spells; raise NotComparable otherwise."""
    if isinstance(value, bool):
        raise NotComparable(f"{show(value)} is a boolean, not a number")
    try:
        if numbers.is_number(value):
            return numbers.exact(value)
        if isinstance(value, str):
            return numbers.exact(numbers.parse_number(value))
    except ValueError:
        pass
    raise NotComparable(f"{_short(value)} is not a number")


def _same(actual: Any, expected: Any) -> bool:
    kind = type(actual)
    if kind is type(expected) and (kind is str or kind is int):
        return bool(actual == expected)  # what the checks below come to for two texts or ints
    # True == 1 in Python; in JSON a boolean is never a number.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            _same(actual[k], expected[k]) for k in actual
        )
    if numbers.is_number(actual) and numbers.is_number(expected):
        return numbers.same_number(actual, expected)
    if isinstance(actual, str) and numbers.is_number(expected):
        try:
            return numbers.same_number(numbers.parse_number(actual), expected)
        except ValueError:
            return False
    return bool(actual == expected)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return _text(expected) in actual
    if isinstance(actual, list):
        return any(_same(item, expected) for item in actual)
    if isinstance(actual, dict):
        return isinstance(expected, str) and expected in actual
    raise NotComparable(f"{_short(actual)} is neither text, a list nor an object")


def _length(actual: Any) -> int:
    if isinstance(actual, str | list | dict):
        return len(actual)
    raise NotComparable(f"{_short(actual)} has no length")


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": numbers.is_number,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
        or (isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _is_type(actual: Any, expected: str) -> bool:
    return _TYPE_CHECKS[expected](actual)


def _matches(actual: Any, expected: str) -> bool:
    if isinstance(actual, dict | list) or actual is None:
        raise NotComparable(f"{_short(actual)} is not text")
    return re.search(expected, _text(actual)) is not None


def _in(actual: Any, expected: Any) -> bool:
    if not isinstance(expected, list):
        raise NotComparable("the expected value of 'in' must be a list")
    return any(_same(actual, item) for item in expected)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def show(value: Any, limit: int = 200) -> str:
    """Render a value for a message: text in JSON's quotes (`errors.quoted`), numbers with
    all their digits, structures as compact JSON, cut at `limit` characters with "…" (the
    redactor then masks a secret's first characters left before the cut). Never `repr()`."""
    if value is MISSING:
        return "no value"
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    if numbers.is_number(value):
        return numbers.text(value)
    text = quoted(value) if isinstance(value, str) else numbers.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else cut_text(text, limit - 1) + "…"


def json_spelled(message: str, values: tuple[Any, ...]) -> str:
    """Return ``message`` with the repr() of each of ``values``, and of their items, keys and
    the items of those (two levels down), re-spelled by `show`, in one pass from the left so
    a re-spelled value is never spelled again; a repr is matched only as a whole token."""
    spellings: dict[str, str] = {}
    pending = [(value, 0) for value in values]
    while pending and len(spellings) < _MAX_SPELLINGS:
        value, depth = pending.pop()
        spelled = repr(value)
        if spelled not in spellings:
            spellings[spelled] = show(value, 80)
        if depth < 2 and isinstance(value, (list, tuple, dict)):
            parts = [*value, *value.values()] if isinstance(value, dict) else value
            pending.extend((part, depth + 1) for part in parts[:_MAX_SPELLINGS])
    changed = {spelled: json for spelled, json in spellings.items() if spelled != json}
    if not changed:
        return message
    alternatives = "|".join(re.escape(s) for s in sorted(changed, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w'\"])(?:{alternatives})(?![\w'\"])")
    return pattern.sub(lambda match: changed[match.group(0)], message)


# How many values one message re-spells at most (a 10,000-item enum is cut to its first ones).
_MAX_SPELLINGS = 200


def _short(value: Any) -> str:
    return show(value, 80)


_EVALUATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _same,
    "not_equals": lambda a, e: not _same(a, e),
    "contains": _contains,
    "not_contains": lambda a, e: not _contains(a, e),
    "greater_than": lambda a, e: _number(a) > _number(e),
    "greater_or_equal": lambda a, e: _number(a) >= _number(e),
    "less_than": lambda a, e: _number(a) < _number(e),
    "less_or_equal": lambda a, e: _number(a) <= _number(e),
    "matches": _matches,
    "in": _in,
    "not_in": lambda a, e: not _in(a, e),
    "is_type": _is_type,
    "length_equals": lambda a, e: _length(a) == e,
    "is_empty": lambda a, _e: a is None or _length(a) == 0,
    "not_empty": lambda a, _e: a is not None and _length(a) > 0,
}


def evaluate(operator: str, actual: Any, expected: Any) -> tuple[bool, str | None]:
    """Return (passed, reason); reason explains a value the operator could not judge."""
    if operator == "exists":
        return actual is not MISSING, None
    if operator == "not_exists":
        return actual is MISSING, None
    if actual is MISSING:
        return False, "nothing was found"
    try:
        return _EVALUATORS[operator](actual, expected), None
    except NotComparable as exc:
        return False, str(exc)
    except re.error as exc:
        return False, f"invalid regular expression: {exc}"
