"""RFC 9535 JSONPath queries (python-jsonpath), compiled once, with a fast path for simple ones.

Most journey paths are singular (`$.token`, `$.items[0].id`); walking those directly gives the
same nodes as the full engine at a fraction of the cost per response. The same paths are known to
be valid without asking python-jsonpath, so a journey that uses only them never imports it (the
import costs ~35 ms of every `reqflo` start).

Member names after a dot follow one rule here and in `{{ }}` references
(`reqflo.engine.values.NON_ASCII`): RFC 9535's shorthand, every character from U+0080 on except
surrogates — also those above U+FFFF, which python-jsonpath's own lexer refuses.

Importing python-jsonpath builds two default environments whose lexers spell a member name as
the class `[\u0080-\uffffa-zA-Z_]`: `re` compiles each such class into a 64K-entry bitmap, in
Python, ~3 ms each, ten of them (~30 ms of every start that needs the library). The library is
imported through `_import_jsonpath`, which swaps that spelling for the same set written as
"ASCII letter, or a non-ASCII character of the BMP" (microseconds), before those environments
are built. The swap happens only when the library's pattern is exactly the one replaced, so a
library upgrade that changes it leaves the library as it is (only slower to import).
"""

from __future__ import annotations

import importlib.machinery
import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType
from typing import Any

from reqflo.engine.values import NON_ASCII

# A singular path of shorthand names and index selectors, exactly as RFC 9535 writes them:
# no leading zeros, no "-0" (section 2.3.3.1), and indexes within I-JSON's exact integers.
_SIMPLE = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:0|-?[1-9][0-9]{0,15})\])*")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]")
_MAX_INDEX = 2**53 - 1

# python-jsonpath 2.x's `Lexer.key_pattern`, and the same set of names, cheap to compile.
LIBRARY_KEY_PATTERN = r"[\u0080-\uFFFFa-zA-Z_][\u0080-\uFFFFa-zA-Z0-9_-]*"
_BMP_NON_ASCII = r"(?![\U00010000-\U0010ffff])[^\x00-\x7f]"
CHEAP_KEY_PATTERN = rf"(?:[a-zA-Z_]|{_BMP_NON_ASCII})(?:[a-zA-Z0-9_-]|{_BMP_NON_ASCII})*"
# RFC 9535 name-first / name-char (plus "-", as python-jsonpath and references allow): ASCII
# letters, "_" and every non-ASCII character but surrogates, also above U+FFFF.
REQFLO_KEY_PATTERN = rf"(?:[A-Za-z_]|{NON_ASCII})(?:[A-Za-z0-9_-]|{NON_ASCII})*"


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


class _CheapKeyPattern:
    """Finds `jsonpath.lex` as usual and swaps its Lexer's key pattern once it is loaded.

    A meta path finder by protocol: subclassing `importlib.abc.MetaPathFinder` would import
    `importlib.abc` and `importlib.resources` (~5 ms) at every start.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "jsonpath.lex":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        loader = spec.loader

        class Loader(importlib.machinery.SourceFileLoader):
            def exec_module(self, module: ModuleType) -> None:
                super().exec_module(module)
                lexer = getattr(module, "Lexer", None)
                if getattr(lexer, "key_pattern", None) == LIBRARY_KEY_PATTERN:
                    lexer.key_pattern = CHEAP_KEY_PATTERN  # type: ignore[union-attr]

        spec.loader = Loader(loader.name, loader.path)
        return spec


def _import_jsonpath() -> None:
    """Import python-jsonpath (only paths beyond the simple ones need it), cheaply."""
    if "jsonpath" in sys.modules:
        return
    finder = _CheapKeyPattern()
    sys.meta_path.insert(0, finder)
    try:
        import jsonpath  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


def _compile(source: str) -> Any:
    """Compile with python-jsonpath in strict (RFC 9535) mode; raise InvalidPath."""
    _import_jsonpath()
    import jsonpath

    if not source.strip():
        raise InvalidPath("a JSONPath starts with $ (it is empty)")
    try:
        return _environment().compile(source)
    except jsonpath.JSONPathError as exc:
        if not source.startswith("$"):  # the parser says "expected 'TOKEN_ROOT', found …"
            raise InvalidPath(
                f"a JSONPath starts with $ (like $.{source.strip().lstrip('.')} for a key "
                "of the body)"
            ) from None
        raise InvalidPath(_plain(_first_line(exc))) from None


_TOKEN = re.compile(r"'?TOKEN_([A-Z_]+)'?")


def _plain(message: str) -> str:
    """Return python-jsonpath's message without its lexer's token names (TOKEN_RBRACKET)."""
    return _TOKEN.sub(lambda m: m.group(1).lower().replace("_", " "), message)


def _first_line(exc: Exception) -> str:
    """Return the first line of python-jsonpath's message (its str() can fail: it quotes the
    source around the token, and an index past the source's end raises ValueError)."""
    try:
        text = str(exc)
    except ValueError:
        text = str(exc.args[0]) if exc.args else ""
    return text.splitlines()[0] if text.strip() else "not a valid JSONPath"


@lru_cache(maxsize=1)
def _environment() -> Any:
    """Return the strict RFC 9535 environment whose dot names are the references' names."""
    _import_jsonpath()
    import jsonpath

    class Lexer(jsonpath.lex.Lexer):
        key_pattern = REQFLO_KEY_PATTERN

    class Environment(jsonpath.JSONPathEnvironment):
        lexer_class = Lexer

    return Environment(strict=True)


@lru_cache(maxsize=4096)
def compile_query(source: str) -> Query:
    """Compile a JSONPath once per process; raise InvalidPath for invalid syntax."""
    return Query(source)
