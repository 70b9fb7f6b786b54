"""RFC 9535 JSONPath queries (python-jsonpath), compiled once, with a fast path for simple ones.

Most journey paths are singular (`$.token`, `$.items[0].id`); walking those directly gives the
same nodes as the full engine at a fraction of the cost per response. The same paths are known to
be valid without asking python-jsonpath, so a journey that uses only them never imports it (the
import costs ~35 ms of every `reqflo` start).

Member names after a dot follow one rule here and in `{{ }}` references
(`reqflo.engine.values.NAME_CHARS`): RFC 9535's shorthand, every character from U+0080 on except
surrogates — also those above U+FFFF, which python-jsonpath's own lexer refuses.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from reqflo.engine.values import NAME_CHARS

# A singular path of shorthand names and index selectors, exactly as RFC 9535 writes them:
# no leading zeros, no "-0" (section 2.3.3.1), and indexes within I-JSON's exact integers.
_SIMPLE = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:0|-?[1-9][0-9]{0,15})\])*")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]")
_MAX_INDEX = 2**53 - 1


class InvalidPath(ValueError):
    """The text is not an RFC 9535 JSONPath; the message is python-jsonpath's first line."""


class Query:
    """A compiled JSONPath; `findall(data)` returns the values of every matched node."""

    __slots__ = ("_compiled", "_steps", "source")

    @property
    def steps(self) -> tuple[str | int, ...] | None:
        """The names and indexes of a singular path (`$.a[0]`), or None for any other path."""
        return self._steps

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: Any = None
        self._steps: tuple[str | int, ...] | None = None
        if _SIMPLE.fullmatch(source):
            steps = tuple(name if name else int(index) for name, index in _SEGMENT.findall(source))
            if all(isinstance(step, str) or abs(step) <= _MAX_INDEX for step in steps):
                self._steps = steps
                return
        self._compiled = _compile(source)

    def findall(self, data: Any) -> list[Any]:
        if self._steps is None:
            return list(self._compiled.findall(data))
        value = data
        for step in self._steps:
            if isinstance(step, str):
                # A name selector selects nothing from a list or a scalar (RFC 9535 2.3.1.2).
                if not isinstance(value, dict) or step not in value:
                    return []
                value = value[step]
            else:
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return []
                value = value[step]
        return [value]

    def __str__(self) -> str:
        return self.source


def _compile(source: str) -> Any:
    """Compile with python-jsonpath in strict (RFC 9535) mode; raise InvalidPath."""
    import jsonpath  # only paths beyond the simple ones need the library

    try:
        return _environment().compile(source)
    except jsonpath.JSONPathError as exc:
        raise InvalidPath(str(exc).splitlines()[0]) from None


@lru_cache(maxsize=1)
def _environment() -> Any:
    """Return the strict RFC 9535 environment whose dot names are the references' names."""
    import jsonpath

    class Lexer(jsonpath.lex.Lexer):
        # RFC 9535 name-first / name-char (plus "-", as python-jsonpath and references allow).
        key_pattern = f"[{NAME_CHARS.replace('0-9', '')}][{NAME_CHARS}-]*"

    class Environment(jsonpath.JSONPathEnvironment):
        lexer_class = Lexer

    return Environment(strict=True)


@lru_cache(maxsize=4096)
def compile_query(source: str) -> Query:
    """Compile a JSONPath once per process; raise InvalidPath for invalid syntax."""
    return Query(source)
