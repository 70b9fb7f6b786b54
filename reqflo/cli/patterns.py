"""A cache of the regular expressions that modules compile at import, kept between `reqflo` starts.

Python compiles every `re` pattern from its text at each start, in pure Python (the parser and
the code generator of `re._parser` and `re._compiler`): the modules a one-step run imports
(PyYAML's resolver, `http.cookiejar`, httpx, h11, email, the engine's own tables, ...) compile
~150 patterns, ~12% of the run's instructions (docs/benchmarks.md, "CLI start-up", fifth pass).
Like the bytecode Python caches in `__pycache__`, the compiled form of a pattern depends only on
its text, its flags and the interpreter, so the console script keeps it in
`$XDG_CACHE_HOME/reqflo/patterns.<cache tag>.marshal` (default `~/.cache/reqflo`) and hands it
to `_sre.compile`, the step `re` ends with, instead of parsing the text again. The pattern built
from the cache is the same object a fresh compile builds (`Pattern.__eq__` compares the
compiled code: tests/cli/test_patterns.py checks every entry).

What is kept, and when:

- Only patterns compiled while a module is being imported: a library's or reqflo's own tables.
  A pattern built at run time (a journey's `matches` assertion, the redactor's patterns made
  from secret values) is compiled as usual and never written anywhere.
- The file is keyed by the exact interpreter (`sys.version`, `_sre.MAGIC`, the code size): any
  other interpreter ignores it and writes its own. An unreadable or foreign file is ignored.
- New entries are written when the command is done (`save`, called by `entry`),
  merged with what other processes wrote meanwhile and replaced atomically; nothing is written
  when Python is told not to write bytecode (`PYTHONDONTWRITEBYTECODE`, `-B`) or the folder is
  not writable. A failure to read or write never changes what the command does.

Only the console script (`reqflo.cli.main.entry`) installs it; `main()` called in a process of
one's own (tests, the server) compiles patterns as Python always does.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Entries beyond this many are not added (import-time patterns are a few hundred at most).
MAX_ENTRIES = 4096
_IMPORT_MACHINERY = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")

# (pattern text, flags) -> (final flags, code, groups - 1, group index, index group)
Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]

_cache: dict[tuple[str | bytes, int], Entry] = {}
_new: dict[tuple[str | bytes, int], Entry] = {}
_path: Path | None = None
_original: Any = None


def cache_path(environ: Mapping[str, str]) -> Path:
    """Return the cache file for this interpreter: `$XDG_CACHE_HOME/reqflo/patterns.<tag>...`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
    tag = sys.implementation.cache_tag or "python"
    return Path(base).expanduser() / "reqflo" / f"patterns.{tag}.marshal"


def _interpreter() -> tuple[Any, ...]:
    import _sre

    return (sys.version, sys.maxunicode, _sre.MAGIC, _sre.CODESIZE)


def install(environ: Mapping[str, str]) -> None:
    """Compile `re` patterns through the cache from now on (once per process)."""
    global _path, _original
    if _original is not None:
        return
    compiler = getattr(re, "_compiler", None)
    if compiler is None or not all(
        hasattr(compiler, name) for name in ("compile", "_code", "_parser")
    ):
        return  # not CPython's `re` as known here: compile as usual
    _path = cache_path(environ)
    _cache.update(_read(_path))
    _original = compiler.compile
    compiler.compile = _compile


def uninstall() -> None:
    """Undo `install` (for tests): compile as Python does, forget what was read and learned."""
    global _path, _original
    if _original is not None:
        re._compiler.compile = _original  # type: ignore[attr-defined]
    _original = None
    _path = None
    _cache.clear()
    _new.clear()


def _read(path: Path) -> dict[tuple[str | bytes, int], Entry]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if (
        not isinstance(data, tuple)
        or len(data) != 2
        or data[0] != _interpreter()
        or not isinstance(data[1], dict)
    ):
        return {}
    return data[1]


def _compile(pattern: Any, flags: int = 0) -> Any:
    """`re._compiler.compile`, reading and recording the compiled code in the cache."""
    import _sre

    if type(pattern) not in (str, bytes):
        return _original(pattern, flags)
    key = (pattern, int(flags))
    entry = _cache.get(key)
    if entry is not None:
        try:
            return _sre.compile(pattern, *entry)
        except Exception:
            _cache.pop(key, None)
    if not _importing():
        return _original(pattern, flags)
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
    if len(_cache) + len(_new) < MAX_ENTRIES:
        _cache[key] = _new[key] = entry
    return compiled


def _importing() -> bool:
    """Return True when the pattern is compiled by a module being imported."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _IMPORT_MACHINERY:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def save() -> None:
    """Write what this process learned, merged with the file as it is now; never raise."""
    if not _new or _path is None or sys.dont_write_bytecode:
        return
    merged = {**_read(_path), **_new}
    if len(merged) > MAX_ENTRIES:
        return
    temporary = _path.with_name(f"{_path.name}.{os.getpid()}.tmp")
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(marshal.dumps((_interpreter(), merged)))
        os.replace(temporary, _path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    else:
        _new.clear()
