"""Exact numbers: text becomes a number without losing a digit, and goes out as it came in.

- Integer text (`11234567800033596096`) becomes a Python `int`, exact at any size.
- Decimal text becomes a `float` when the float's shortest form is the same number (`19.99`,
  `0.1`, `1e-7`: what nearly all data looks like, and what JSON libraries produce), otherwise a
  `Decimal` holding every digit (`0.1000000000000000055511151231257827`).
- Comparisons treat a float as the decimal number it prints as, so `0.1` from a response equals
  `0.1` typed in a journey and `"9007199254740993"` is greater than `9007199254740992`.
- `dumps` writes a Decimal as a JSON number with all its digits; `loads` reads numbers back the
  same way `parse_number` does.
"""

from __future__ import annotations

import json
import math
import os
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from reqflo.engine.errors import quoted

Number = int | float | Decimal

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# "1e3" is the integer 1000; "1e400000" stays a Decimal instead of a 400,000-digit int.
_MAX_INT_EXPONENT = 64


def parse_number(text: str) -> Number:
    """Return the number `text` spells (see the module docstring); raise ValueError if none.

    Accepts JSON's number syntax plus a leading `+`, `1.` and `.5`; not `nan`, `inf`, `1_000`.
    """
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{quoted(text)} is not a number")
    if _INTEGER.fullmatch(text):
        return int(text)
    exact = Decimal(text)
    if (
        "." not in text
        and abs(exact.adjusted()) <= _MAX_INT_EXPONENT
        and exact == exact.to_integral_value()
    ):
        return int(exact)
    return from_decimal(exact)


def from_decimal(exact: Decimal) -> float | Decimal:
    """Return a float when it prints as the same number, else the Decimal itself."""
    as_float = float(exact)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == exact:
        return as_float
    return exact


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def exact(value: int | float | Decimal) -> int | Decimal:
    """Return the value as an exact number: a float as the decimal it prints as."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return Decimal(repr(value))
    return value


def same_number(a: int | float | Decimal, b: int | float | Decimal) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    try:
        return exact(a) == exact(b)
    except (ValueError, InvalidOperation):
        return a == b


def text(value: int | float | Decimal) -> str:
    """Return a number's JSON text (a Decimal with all its digits)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` that writes Decimals as exact JSON numbers (costs nothing without one)."""
    kwargs.setdefault("ensure_ascii", False)
    fallback = kwargs.pop("default", None)
    try:
        if fallback is None:
            return json.dumps(value, **kwargs)

        def default(obj: Any) -> Any:
            if isinstance(obj, Decimal):
                raise TypeError("a Decimal is written below")
            return fallback(obj)

        return json.dumps(value, default=default, **kwargs)
    except TypeError:
        if not _has_decimal(value):
            raise
    if fallback is not None:
        kwargs["default"] = fallback
    # The stdlib encoder cannot write a raw number: each Decimal goes in as a string between
    # two copies of a token no data can contain, and comes out without the token and quotes.
    token = os.urandom(16).hex()
    encoded = json.dumps(_marked(value, token), **kwargs)
    return re.sub(f'"{token}([^"]*){token}"', lambda m: m.group(1), encoded)


def _marked(value: Any, token: str) -> Any:
    if isinstance(value, Decimal):
        return f"{token}{value}{token}" if value.is_finite() else str(value)
    if isinstance(value, dict):
        return {k: _marked(v, token) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(v, token) for v in value]
    return value


def _has_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_has_decimal(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_decimal(v) for v in value)
    return False


def parse_json_float(text: str) -> float | Decimal:
    """The `parse_float` hook for `json`: a float when lossless, else a Decimal."""
    if len(text) <= 16 and "e" not in text and "E" not in text:
        # At most 15 significant digits and no exponent: a float always holds them exactly
        # (the common case, without building a Decimal).
        return float(text)
    return from_decimal(Decimal(text))


def loads(data: str | bytes | bytearray) -> Any:
    """`json.loads` that keeps decimals exact (float when lossless, else Decimal)."""
    return json.loads(data, parse_float=parse_json_float)


def exact_decimals(value: Any) -> Any:
    """Return parsed data with each Decimal made a float where that is lossless."""
    if isinstance(value, Decimal):
        return from_decimal(value)
    if isinstance(value, dict):
        return {k: exact_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_decimals(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """Return data with each Decimal as its text, for stores that take only JSON's own types."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
