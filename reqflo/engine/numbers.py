"""Exact numbers: text becomes a number without losing a digit, and goes out as it came in.

- Integer text (`11234567800033596096`) becomes a Python `int`, exact at any size.
- Decimal text becomes a `float` when the float's shortest form is the same text (`19.99`,
  `0.1`, `1e-07`: what nearly all data looks like, and what JSON libraries produce), otherwise a
  `Literal`: a `Decimal` holding every digit that also keeps the text as written (`100.10`,
  `1e5`, `0.1000000000000000055511151231257827`), so a body, a `json:` literal or a `--set`
  value goes out and is shown exactly as it came in. Integer text a Python `int` would print
  differently (`00012`, `+5`, `-0`) is a `Literal` too.
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
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from reqflo.engine.errors import quoted

Number = int | float | Decimal

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# "1e3" is the integer 1000; "1e400000" stays a Decimal instead of a 400,000-digit int.
_MAX_INT_EXPONENT = 64


_MINUS_ZERO = re.compile(r"-0(?![0-9.eE])")
_MINUS_ZERO_BYTES = re.compile(rb"-0(?![0-9.eE])")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class Literal(Decimal):
    """A number that keeps the text it was written as: the value is the Decimal's, `str()` is
    the text (`100.10`, `1e5`, `00012`), `json_text` the same text where JSON's number syntax
    allows it, else the Decimal's own form (`00012` → `12`, `+5` → `5`, `.5` → `0.5`)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Literal:
        self = super().__new__(cls, text)
        self.text = text
        return self

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Literal({self.text!r})"

    def __format__(self, spec: str, context: Context | None = None, /) -> str:
        return self.text if not spec else super().__format__(spec, context)

    @property
    def json_text(self) -> str:
        if _JSON_NUMBER.fullmatch(self.text):
            return self.text
        return Decimal.__str__(self)


def parse_number(text: str) -> Number:
    """Return the number `text` spells (see the module docstring); raise ValueError if none.

    Accepts JSON's number syntax plus a leading `+`, `1.` and `.5`; not `nan`, `inf`, `1_000`.
    An int or a float when that prints as `text`, else a `Literal` keeping `text`.
    """
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{quoted(text)} is not a number")
    if _INTEGER.fullmatch(text):
        value = int(text)
        return value if str(value) == text else Literal(text)
    as_float = float(text)
    if math.isfinite(as_float) and repr(as_float) == text:
        return as_float
    return Literal(text)


def is_integral(value: Any) -> bool:
    """Whether a number was written as a whole number: an int, or a Literal like `00012`."""
    if isinstance(value, Literal):
        return bool(_INTEGER.fullmatch(value.text))
    return isinstance(value, int) and not isinstance(value, bool)


def from_decimal(exact: Decimal) -> float | Decimal:
    """Return a float when it is the same number, else the Decimal itself (for stores)."""
    as_float = float(exact)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == exact:
        return as_float
    return exact


# A tuple: `int | float | Decimal` in a call builds a union object at every call.
_NUMBER_TYPES = (int, float, Decimal)


def is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


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
    """Return a number's JSON text (a Decimal with all its digits, a Literal as written)."""
    if isinstance(value, Literal):
        return value.json_text
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(finite_or_named(value))
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` that writes Decimals as exact JSON numbers (costs nothing without one).

    A NaN or infinite Decimal is written as the string `"NaN"`, `"Infinity"` or `"-Infinity"`.
    A `default` is called for the other objects JSON cannot hold, as `json.dumps` does.
    """
    kwargs.setdefault("ensure_ascii", False)
    fallback = kwargs.pop("default", None)
    # The stdlib encoder cannot write a raw number: each Decimal goes in as a string between
    # two copies of a token no data can contain, and comes out without the token and quotes.
    token = os.urandom(16).hex()
    seen = False

    def default(obj: Any) -> Any:
        nonlocal seen
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                return "NaN" if obj.is_nan() else ("Infinity" if obj > 0 else "-Infinity")
            seen = True
            return f"{token}{text(obj)}{token}"
        if fallback is None:
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        return fallback(obj)

    encoded = json.dumps(value, default=default, **kwargs)
    if not seen:
        return encoded
    return re.sub(f'"{token}([^"]*){token}"', lambda m: m.group(1), encoded)


def parse_json_float(number: str) -> float | Decimal:
    """The `parse_float` hook for `json`: a float when it prints as `number`, else a Literal."""
    as_float = float(number)
    if repr(as_float) == number:  # the common case: `19.99`, `0.5`
        return as_float
    return Literal(number)


def parse_json_int(number: str) -> int | Decimal:
    """The `parse_int` hook for `json`: an int, or a Literal for `-0` (an int has no sign)."""
    return Literal(number) if number == "-0" else int(number)


_DECODER = json.JSONDecoder(parse_float=parse_json_float)
_SIGNED_ZERO_DECODER = json.JSONDecoder(parse_float=parse_json_float, parse_int=parse_json_int)


def loads(data: str | bytes | bytearray) -> Any:
    """`json.loads` that keeps numbers exact and as written (float when that prints the same,
    else a Literal)."""
    # Only `-0` needs the int hook: without one, the C parser's own int is the same (a `-0`
    # inside a string only costs the hook).
    # What `json.loads(data, parse_float=..., parse_int=...)` does, with decoders built once
    # (json.loads builds a decoder and its scanner at every call that passes a hook).
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        signed_zero = _MINUS_ZERO.search(data) is not None
    elif isinstance(data, bytes | bytearray):
        signed_zero = _MINUS_ZERO_BYTES.search(data) is not None
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    else:
        raise TypeError(
            f"the JSON object must be str, bytes or bytearray, not {data.__class__.__name__}"
        )
    return (_SIGNED_ZERO_DECODER if signed_zero else _DECODER).decode(data)


def exact_decimals(value: Any) -> Any:
    """Return parsed data (Decimals for decimals, as ijson builds it) read as `loads` reads
    JSON: each Decimal a float where that prints the same, else a Literal of its text."""
    if isinstance(value, Decimal) and not isinstance(value, Literal):
        if not value.is_finite():
            return value
        as_float = float(value)
        # The Decimal keeps the text's digits and exponent (not its `e` or `E`): `1e+300` is
        # that float, `100.10` is not 100.1 as written.
        if Decimal(repr(as_float)).as_tuple() == value.as_tuple():
            return as_float
        return Literal(str(value))
    if isinstance(value, dict):
        return {k: exact_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_decimals(v) for v in value]
    return value


def finite_or_named(value: Any) -> Any:
    """Return data with each NaN or infinite float as its name (``"NaN"``, ``"Infinity"``,
    ``"-Infinity"``), which JSON cannot hold as a number; everything else as it is."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite_or_named(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_named(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """Return data with each Decimal as a float where that is the same number, else as its
    text, for stores that take only JSON's own types (a database JSON column)."""
    if isinstance(value, Decimal):
        number = from_decimal(value)
        return number if isinstance(number, float) else text(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
