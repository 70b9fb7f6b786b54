"""The console script's cache of import-time regular expressions (reqflo/cli/start_cache.py).

The console script runs in a fresh interpreter with its own cache folder; the cache it writes is
then checked here entry by entry against what Python compiles from the same text, and for what
must never be in it (a journey's own pattern, a secret). How much time it saves is measured by
`bench/startup.py`, not here.
"""

from __future__ import annotations

import marshal
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqflo.cli import start_cache
from tests.cli.conftest import REPO, EchoServer, write_journey

SECRET = "s3cr3t-Pattern-Value-91"
# Only a journey holds this text (a `matches` assertion): it is compiled at run time.
JOURNEY_PATTERN = "^/item/[0-9]+-journey-only$|^/item/"


def console(*args: str | Path, cache: Path, write: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the console script in a fresh interpreter with `cache` as XDG_CACHE_HOME."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REQFLO_") and k not in ("CI", "PYTHONDONTWRITEBYTECODE")
    }
    environ["XDG_CACHE_HOME"] = str(cache)
    environ["REQFLO_SECRET_TOKEN"] = SECRET
    if not write:
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "reqflo.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environ,
        timeout=120,
        check=False,
    )


def cache_file(cache: Path) -> Path:
    return start_cache.cache_path({"XDG_CACHE_HOME": str(cache)})


@pytest.fixture
def journey(tmp_path: Path, echo: EchoServer) -> Path:
    step = {
        "id": "a",
        "name": "A",
        "request": {
            "method": "GET",
            "url": f"{echo.url}/item/1",
            "headers": {"Authorization": "Bearer {{ secrets.token }}"},
        },
        "assertions": [
            {"type": "status_code", "expected": 200},
            {
                "type": "json_path",
                "path": "$.path",
                "operator": "matches",
                "expected": JOURNEY_PATTERN,
            },
        ],
    }
    return write_journey(tmp_path, "secret.yaml", {"name": "S", "slug": "s", "steps": [step]})


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    start_cache.uninstall()


@pytest.mark.slow
def test_a_run_caches_import_time_patterns_equal_to_pythons_own(
    tmp_path: Path, journey: Path
) -> None:
    cache = tmp_path / "cache"
    first = console("run", journey, cache=cache)
    assert first.returncode == 0, first.stderr
    assert "1 run: 1 passed" in first.stdout

    entries, codes = start_cache._read(cache_file(cache))
    # PyYAML's resolver, http.cookiejar, httpx, h11: what every run imports.
    assert len(entries) > 50
    compile_from_text = re._compiler.compile  # type: ignore[attr-defined]
    import _sre

    for (text, flags), entry in entries.items():
        assert _sre.compile(text, *entry) == compile_from_text(text, flags), text
    # argparse compiles its own fixed patterns while parsing: kept too.
    assert ("(-*A[-AO]*)", 0) in entries
    # The methods of the engine's dataclasses (results, definitions, ...), each the code
    # `exec` compiles its text to in `dataclasses` (no __future__ import there).
    assert len(codes) > 100
    assert any("def __init__(self,severity:" in text for text in codes)  # engine.errors.Issue
    for text, code in codes.items():
        assert code == compile(text, "<string>", "exec", dont_inherit=True), text

    # Run-time patterns are compiled as usual and never written: neither the journey's own
    # pattern nor anything made from a secret.
    raw = cache_file(cache).read_bytes()
    assert JOURNEY_PATTERN.encode() not in raw
    assert SECRET.encode() not in raw
    assert all(SECRET not in str(text) and "journey-only" not in str(text) for text, _ in entries)
    assert all(SECRET not in text and "journey-only" not in text for text in codes)

    # A second run reads it, finds everything it needs there and leaves the file as it was.
    second = console("run", journey, cache=cache)
    assert second.returncode == 0, second.stderr
    assert "1 run: 1 passed" in second.stdout
    assert cache_file(cache).read_bytes() == raw


@pytest.mark.slow
def test_nothing_is_written_when_python_is_told_not_to_write_bytecode(
    tmp_path: Path, journey: Path
) -> None:
    completed = console("run", journey, cache=tmp_path / "cache", write=False)

    assert completed.returncode == 0, completed.stderr
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"\x00garbage", marshal.dumps(("other python", {}, {}))])
def test_an_unusable_cache_is_ignored_and_replaced(
    tmp_path: Path, journey: Path, content: bytes
) -> None:
    cache = tmp_path / "cache"
    cache_file(cache).parent.mkdir(parents=True)
    cache_file(cache).write_bytes(content)

    completed = console("run", journey, cache=cache)

    assert completed.returncode == 0, completed.stderr
    assert "1 run: 1 passed" in completed.stdout
    entries, codes = start_cache._read(cache_file(cache))
    assert len(entries) > 50
    assert len(codes) > 100


@pytest.mark.slow
def test_a_cache_folder_that_cannot_be_written_changes_nothing(
    tmp_path: Path, journey: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")

    completed = console("run", journey, cache=blocker)

    assert completed.returncode == 0, completed.stderr
    assert "1 run: 1 passed" in completed.stdout
    assert blocker.read_text() == "a file where the cache folder would go"
    assert not list(tmp_path.glob("**/*.tmp"))


def _write(
    cache: Path,
    entries: dict[tuple[str | bytes, int], start_cache.PatternEntry],
    codes: dict[str, object] | None = None,
) -> None:
    cache_file(cache).parent.mkdir(parents=True, exist_ok=True)
    content = (start_cache._interpreter(), entries, codes or {})
    cache_file(cache).write_bytes(marshal.dumps(content))


def _entry_for(text: str, flags: int = 0) -> start_cache.PatternEntry:
    compiler = re._compiler  # type: ignore[attr-defined]
    tree = compiler._parser.parse(text, flags)
    groupindex = dict(tree.state.groupdict)
    indexgroup: list[str | None] = [None] * tree.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    code = [int(op) for op in compiler._code(tree, flags)]
    return (int(flags | tree.state.flags), code, tree.state.groups - 1, groupindex, (*indexgroup,))


def test_a_cached_pattern_is_built_from_the_cache_not_from_its_text(
    tmp_path: Path, installed: None
) -> None:
    # The entry for "abc" holds the code of "abd": only a pattern built from the cache matches
    # "abd" (a real entry always holds the text's own code).
    _write(tmp_path, {("abc", 0): _entry_for("abd")})
    start_cache.install({"XDG_CACHE_HOME": str(tmp_path)})

    compiled = re._compiler.compile("abc", 0)  # type: ignore[attr-defined]

    assert compiled.pattern == "abc"
    assert compiled.match("abd")
    assert not compiled.match("abc")


def test_a_damaged_entry_is_compiled_from_its_text(tmp_path: Path, installed: None) -> None:
    damaged = (0, [999_999, 1, 2], 0, {}, ())
    _write(tmp_path, {("x(?P<n>y)", 0): damaged})
    start_cache.install({"XDG_CACHE_HOME": str(tmp_path)})

    compiled = re._compiler.compile("x(?P<n>y)", 0)  # type: ignore[attr-defined]

    assert compiled.match("xy").group("n") == "y"


def test_a_pattern_compiled_at_run_time_is_not_kept(
    tmp_path: Path, installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    start_cache.install({"XDG_CACHE_HOME": str(tmp_path)})

    assert re._compiler.compile("run-time-(only)", 0).match("run-time-only")  # type: ignore[attr-defined]
    start_cache.save()

    assert not cache_file(tmp_path).exists()


def test_a_cached_dataclass_method_runs_its_cached_code(tmp_path: Path, installed: None) -> None:
    import dataclasses

    # The text of the __repr__ generated for a class with one field `y`, as dataclasses writes it.
    texts: list[str] = []
    real_exec = exec

    def spy(source: object, globals: object = None, locals: object = None, /) -> None:
        texts.append(str(source))
        real_exec(source, globals, locals)  # type: ignore[call-overload]

    class Point:
        y: int

    dataclasses.exec = spy  # type: ignore[attr-defined]
    try:
        dataclasses.dataclass(Point)
    finally:
        del dataclasses.exec  # type: ignore[attr-defined]
    repr_text = next(text for text in texts if "__repr__" in text)
    # Cached under that text: code that says "cached". Only a method run from the cache says it.
    marked = compile(repr_text.replace("(y=", "(cached y="), "<string>", "exec")
    _write(tmp_path, {}, {repr_text: marked})
    start_cache.install({"XDG_CACHE_HOME": str(tmp_path)})

    @dataclasses.dataclass
    class Same:
        y: int

    @dataclasses.dataclass
    class Other:
        x: int

    assert repr(Same(3)).endswith("Same(cached y=3)")
    assert repr(Other(3)).endswith("Other(x=3)")


def test_dataclasses_made_at_run_time_are_not_kept(
    tmp_path: Path, installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    start_cache.install({"XDG_CACHE_HOME": str(tmp_path)})

    made = dataclasses.make_dataclass("Made", [("secret_field_name", int)], frozen=True)
    assert made(1) == made(1)
    assert repr(made(2)).endswith("Made(secret_field_name=2)")
    start_cache.save()

    assert not cache_file(tmp_path).exists()
