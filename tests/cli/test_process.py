"""The console script skips the collector's start-up work and the teardown, and loses nothing.

`reqflo.cli.main.entry` pauses the cyclic garbage collector while starting and ends the process
with `os._exit` after flushing (reqflo/cli/process.py). These tests run it as the console script
does, in a fresh interpreter, with stdout a pipe and a file (block-buffered: what is not
flushed is lost), and check the collector is back on before a run's first row.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqflo.cli import process
from tests.cli.conftest import EXAMPLES, REPO, EchoServer, run_in_process, write_journey

# The console script, as `python -m` runs it.
ENTRY = [sys.executable, "-m", "reqflo.cli.main"]


def console(*args: str | Path, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    # Block-buffered streams, as a user's are (PYTHONUNBUFFERED would flush every write).
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REQFLO_") and k not in ("CI", "PYTHONUNBUFFERED")
    }
    return subprocess.Popen(
        [*ENTRY, *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=environ,
    )


@pytest.fixture
def collector() -> Iterator[None]:
    """Restore the collector's state and the module's flag after a test that changes them."""
    enabled = gc.isenabled()
    yield
    process._paused = False
    if enabled:
        gc.enable()
    else:
        gc.disable()


def echo_journey(folder: Path, echo: EchoServer, steps: int) -> Path:
    return write_journey(
        folder,
        "echo.yaml",
        {
            "name": "Echo",
            "slug": "echo",
            "steps": [
                {
                    "id": f"step_{index}",
                    "name": f"Step {index}",
                    "request": {"method": "GET", "url": f"{echo.url}/item/{index}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
                for index in range(steps)
            ],
        },
    )


def test_resume_turns_on_only_what_pause_turned_off(collector: None) -> None:
    gc.disable()
    process.pause_collection()  # someone else turned it off: not ours to turn on
    process.resume_collection()
    assert not gc.isenabled()

    gc.enable()
    process.pause_collection()
    assert not gc.isenabled()
    process.resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # start-up's objects are never walked again
    gc.unfreeze()
    gc.disable()
    process.resume_collection()  # a second resume does nothing
    assert not gc.isenabled()


def test_main_in_a_process_of_ones_own_leaves_the_collector_alone(tmp_path: Path) -> None:
    step = {"id": "a", "name": "A", "request": {"method": "GET", "url": "http://127.0.0.1:9/"}}
    journey = write_journey(tmp_path, "ok.yaml", {"name": "Ok", "slug": "ok", "steps": [step]})
    before = (gc.isenabled(), gc.get_freeze_count())
    run_in_process("validate", journey)
    assert (gc.isenabled(), gc.get_freeze_count()) == before


@pytest.mark.slow
@pytest.mark.parametrize("to_file", [False, True], ids=["pipe", "file"])
def test_the_whole_report_arrives_before_the_process_ends(
    tmp_path: Path, echo: EchoServer, to_file: bool
) -> None:
    # 200 runs of 3 steps: a JSON report far larger than any stream buffer.
    journey = echo_journey(tmp_path, echo, steps=3)
    rows = tmp_path / "rows.csv"
    rows.write_text("case\n" + "".join(f"row {i}\n" for i in range(200)))
    args = ("run", journey, "--data", rows, "--reporter", "json")
    if to_file:
        with (tmp_path / "report.json").open("w") as out:
            proc = console(*args, stdout=out.fileno())
            _, stderr = proc.communicate(timeout=120)
        text = (tmp_path / "report.json").read_text()
    else:
        proc = console(*args)
        text, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    report = json.loads(text)
    assert len(report["runs"]) == 200
    assert all(run["status"] == "passed" for run in report["runs"])


@pytest.mark.slow
def test_exit_codes_and_messages_are_those_of_main(tmp_path: Path) -> None:
    good = [EXAMPLES / "checkout.yaml", EXAMPLES / "products.yaml"]
    with (tmp_path / "out.txt").open("w") as out:
        proc = console("validate", *good, stdout=out.fileno())
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert (tmp_path / "out.txt").read_text().count("is valid") == 2

    bad = tmp_path / "bad.yaml"
    bad.write_text("journey: {name: Bad, slug: bad, steps: [{id: x}]}\n")
    proc = console("validate", bad)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "bad.yaml" in stderr
    assert "problem" in stderr

    proc = console("run", "--parallel", "0", bad)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "must be at least 1" in stderr


@pytest.mark.slow
def test_a_run_collects_garbage_from_its_first_row_on(tmp_path: Path, echo: EchoServer) -> None:
    journey = echo_journey(tmp_path, echo, steps=1)
    rows = tmp_path / "rows.csv"
    rows.write_text("case\none\ntwo\n")
    # The console script, with the row executor wrapped to report the collector's state.
    probe = textwrap.dedent(
        """
        import gc, json, sys
        from reqflo.cli import execute, main, run

        states = {}
        def loading(path):
            states["loading the journey"] = gc.isenabled()
            return load_journey(path)
        load_journey, run.load_journey = run.load_journey, loading
        original = execute.execute
        def spy(*args, **kwargs):
            for result in original(*args, **kwargs):
                states["in a row"] = gc.isenabled()
                states["frozen"] = gc.get_freeze_count() > 0
                yield result
        execute.execute = spy
        def leave(code):
            print(json.dumps(states), file=sys.stderr)
            sys.exit(code)
        main.leave = leave
        sys.argv = ["reqflo", *sys.argv[1:]]
        main.entry()
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe, "run", str(journey), "--data", str(rows)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    states = json.loads(completed.stderr.strip().splitlines()[-1])
    assert states == {
        "loading the journey": False,
        "in a row": True,
        "frozen": True,
    }
