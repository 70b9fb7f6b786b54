"""What the modules a `reqflo` start imports compile from text, kept between console-script starts.

Two kinds of work every start repeated, in pure Python, for the same result each time
(docs/benchmarks.md, "CLI start-up", fifth pass):

- Regular expressions: `re` parses each pattern's text and generates its code (`re._parser`,
  `re._compiler`). The modules a one-step run imports (PyYAML's resolver, `http.cookiejar`,
  httpx, h11, email, the engine's tables, ...) compile ~150 patterns: ~12% of its instructions.
- Dataclasses: `dataclasses` writes each generated method (`__init__`, `__repr__`, `__eq__`,
  a frozen class's `__setattr__`, ...) as source text and compiles it with `exec`, ~200 times
  for a one-step run: ~15% of its instructions.

Like the bytecode Python keeps in `__pycache__`, both results depend only on their text and the
interpreter, so the console script keeps them in `$XDG_CACHE_HOME/reqflo/start.<cache
tag>.marshal` (default `~/.cache/reqflo`): a pattern is built from its cached code by
`_sre.compile`, the step `re` ends with (the same `Pattern` a fresh compile builds:
`Pattern.__eq__` compares the code), and a dataclass method's source runs as its cached code
object (what `exec` would have compiled it to: the same text, `"<string>"`, no inherited
flags). tests/cli/test_start_cache.py checks every entry against a fresh compile.

What is kept, and when:

- Only what is compiled while a module is being imported (a library's or reqflo's own tables and
  classes), and the patterns of the few modules that compile only their own fixed text later
  (`STATIC_PATTERN_MODULES`: argparse, python-jsonpath's lexer, the journey format's fields).
  A pattern built at run time from data (a journey's `matches` assertion, anything made from a
  secret value) is compiled as usual and never written anywhere.
- The file is keyed by the exact interpreter (`sys.version`, `_sre.MAGIC`, the code size): any
  other interpreter ignores it and writes its own. An unreadable or foreign file is ignored. It
  is trusted as `__pycache__` is (code is loaded from it): it lives in the user's own folder.
- New entries are written when the command is done (`save`, called by `entry`), merged with
  what other processes wrote meanwhile and replaced atomically; nothing is written when Python
  is told not to write bytecode (`PYTHONDONTWRITEBYTECODE`, `-B`) or the folder is not
  writable. A failure to read or write never changes what the command does.

Only the console script (`reqflo.cli.main.entry`) installs it; `main()` called in a process of
one's own (tests, the server) compiles as Python always does.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Entries of each kind beyond this many are not added (start-up compiles a few hundred).
MAX_ENTRIES = 4096
_IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
# Modules that compile patterns after their import, each only from its own fixed text: argparse
# (while parsing the command line), python-jsonpath's lexer (its token table, built on first
# use) and the journey format's field patterns. Their patterns are kept too.
STATIC_PATTERN_MODULES = frozenset({"argparse", "jsonpath.lex", "reqflo.engine.schema"})

# A pattern: (text, flags) -> (final flags, code, groups - 1, group index, index group).
PatternEntry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
PatternKey = tuple[str | bytes, int]

_patterns: dict[PatternKey, PatternEntry] = {}
_codes: dict[str, Any] = {}  # source text -> code object
_new_patterns: dict[PatternKey, PatternEntry] = {}
_new_codes: dict[str, Any] = {}
_path: Path | None = None
_original_compile: Any = None
_dataclasses: Any = None


def cache_path(environ: Mapping[str, str]) -> Path:
    """Return this interpreter's cache file: `$XDG_CACHE_HOME/reqflo/start.<tag>.marshal`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
    tag = sys.implementation.cache_tag or "python"
    return Path(base).expanduser() / "reqflo" / f"start.{tag}.marshal"


def _interpreter() -> tuple[Any, ...]:
    import _sre

    return (sys.version, sys.maxunicode, _sre.MAGIC, _sre.CODESIZE)


def install(environ: Mapping[str, str]) -> None:
    """Compile `re` patterns and dataclass methods through the cache from now on."""
    global _path, _original_compile, _dataclasses
    if _path is not None:
        return
    compiler = getattr(re, "_compiler", None)
    if compiler is None or not all(hasattr(compiler, n) for n in ("compile", "_code", "_parser")):
        return  # not CPython's `re` as known here: compile as usual
    import dataclasses

    _path = cache_path(environ)
    patterns, codes = _read(_path)
    _patterns.update(patterns)
    _codes.update(codes)
    _original_compile = compiler.compile
    compiler.compile = _compile
    # `dataclasses` calls `exec` by its global name: this one is found before the builtin.
    _dataclasses = dataclasses
    dataclasses.exec = _exec  # type: ignore[attr-defined]


def uninstall() -> None:
    """Undo `install` (for tests): compile as Python does, forget what was read and learned."""
    global _path, _original_compile, _dataclasses
    if _original_compile is not None:
        re._compiler.compile = _original_compile  # type: ignore[attr-defined]
    if _dataclasses is not None:
        with contextlib.suppress(AttributeError):
            del _dataclasses.exec
    _path = _original_compile = _dataclasses = None
    for table in (_patterns, _codes, _new_patterns, _new_codes):
        table.clear()


def _read(path: Path) -> tuple[dict[PatternKey, PatternEntry], dict[str, Any]]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}, {}
    if (
        isinstance(data, tuple)
        and len(data) == 3
        and data[0] == _interpreter()
        and isinstance(data[1], dict)
        and isinstance(data[2], dict)
    ):
        return data[1], data[2]
    return {}, {}


def _compile(pattern: Any, flags: int = 0) -> Any:
    """`re._compiler.compile`, reading and recording the compiled code in the cache."""
    import _sre

    if type(pattern) not in (str, bytes):
        return _original_compile(pattern, flags)
    key = (pattern, int(flags))
    entry = _patterns.get(key)
    if entry is not None:
        try:
            return _sre.compile(pattern, *entry)
        except Exception:
            _patterns.pop(key, None)  # a damaged entry: compile from the text
    if not (_importing() or _static_caller()):
        return _original_compile(pattern, flags)
    # What `re._compiler.compile` does, keeping the compiled code.
    compiler = re._compiler  # type: ignore[attr-defined]
    tree = compiler._parser.parse(pattern, flags)
    code = [int(op) for op in compiler._code(tree, flags)]
    groupindex = {str(name): int(index) for name, index in tree.state.groupdict.items()}
    indexgroup: list[str | None] = [None] * tree.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    entry = (
        int(flags | tree.state.flags),
        code,
        tree.state.groups - 1,
        groupindex,
        tuple(indexgroup),
    )
    compiled = _sre.compile(pattern, *entry)
    if len(_patterns) < MAX_ENTRIES:
        _patterns[key] = _new_patterns[key] = entry
    return compiled


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` for `dataclasses`: a source text runs as its cached code object."""
    if globals is None:  # as `exec` does: the caller's namespaces
        caller = sys._getframe(1)
        globals = caller.f_globals
        locals = caller.f_locals if locals is None else locals
    if type(source) is str:
        code = _codes.get(source)
        if code is None:
            # What `exec(source)` compiles it to (dataclasses has no __future__ import).
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if _importing() and len(_codes) < MAX_ENTRIES:
                _codes[source] = _new_codes[source] = code
        source = code
    builtins.exec(source, globals, locals)


def _importing() -> bool:
    """Return True when the caller runs for a module being imported."""
    try:
        frame = sys._getframe(2)
    except ValueError:  # called with no Python caller: not an import
        return False
    while frame is not None:
        if frame.f_code.co_filename in _IMPORT_MACHINERY:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _static_caller() -> bool:
    """Return True when the code asking `re` for the pattern is in `STATIC_PATTERN_MODULES`."""
    try:
        frame = sys._getframe(2)
    except ValueError:
        return False
    while frame is not None and frame.f_globals.get("__name__") == "re":
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and frame.f_globals.get("__name__") in STATIC_PATTERN_MODULES


def save() -> None:
    """Write what this process learned, merged with the file as it is now; never raise."""
    if not (_new_patterns or _new_codes) or _path is None or sys.dont_write_bytecode:
        return
    patterns, codes = _read(_path)
    patterns.update(_new_patterns)
    codes.update(_new_codes)
    if len(patterns) > MAX_ENTRIES or len(codes) > MAX_ENTRIES:
        return
    temporary = _path.with_name(f"{_path.name}.{os.getpid()}.tmp")
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(marshal.dumps((_interpreter(), patterns, codes)))
        os.replace(temporary, _path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    else:
        _new_patterns.clear()
        _new_codes.clear()
