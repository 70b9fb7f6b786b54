"""RFC 9535 JSONPath queries (python-jsonpath), compiled once, with a fast path for simple ones.

Most journey paths are singular (`$.token`, `$.items[0].id`); walking those directly gives the
same nodes as the full engine at a fraction of the cost per response.

Member names after a dot follow one rule here and in `{{ }}` references
(`reqflo.engine.values.NAME_CHARS`): RFC 9535's shorthand, every character from U+0080 on except
surrogates — also those above U+FFFF, which python-jsonpath's own lexer refuses.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonpath

from reqflo.engine.values import NAME_CHARS

_SIMPLE = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[-?\d+\])*")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]")


class Query:
    """A compiled JSONPath; `findall(data)` returns the values of every matched node."""

    __slots__ = ("_compiled", "_steps", "source")

    @property
    def steps(self) -> tuple[str | int, ...] | None:
        """The names and indexes of a singular path (`$.a[0]`), or None for any other path."""
        return self._steps

    def __init__(self, source: str) -> None:
        self.source = source
        # Raises jsonpath.JSONPathError for invalid syntax, also for paths we walk ourselves.
        self._compiled = _environment().compile(source)
        self._steps: tuple[str | int, ...] | None = None
        if _SIMPLE.fullmatch(source):
            self._steps = tuple(
                name if name else int(index) for name, index in _SEGMENT.findall(source)
            )

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


@lru_cache(maxsize=1)
def _environment() -> jsonpath.JSONPathEnvironment:
    """Return the strict RFC 9535 environment whose dot names are the references' names."""

    class Lexer(jsonpath.lex.Lexer):
        # RFC 9535 name-first / name-char (plus "-", as python-jsonpath and references allow).
        key_pattern = f"[{NAME_CHARS.replace('0-9', '')}][{NAME_CHARS}-]*"

    class Environment(jsonpath.JSONPathEnvironment):
        lexer_class = Lexer

    return Environment(strict=True)


@lru_cache(maxsize=4096)
def compile_query(source: str) -> Query:
    """Compile a JSONPath once per process (raises jsonpath.JSONPathError)."""
    return Query(source)
