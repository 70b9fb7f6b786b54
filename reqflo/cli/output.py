"""Write the chosen report (`cli`, `json`, `junit`) to stdout, a file, or one file per run.

`--output` names a file, or a directory (an existing one, or a path ending in `/`) that gets one
file per run, numbered in row order. Reports are written while runs stream in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reqflo.cli.errors import CliError

if TYPE_CHECKING:
    from reqflo.engine import RunResult
    from reqflo.engine.report import ReportMeta

# The report formats of `reqflo run --reporter`.
REPORTERS = ("cli", "json", "junit")
_EXTENSIONS = {"cli": "txt", "json": "json", "junit": "xml"}


@dataclass(frozen=True)
class ReportTarget:
    """A reporter name and where its output goes (None: stdout)."""

    reporter: str
    output: Path | None = None
    is_directory: bool = False

    @classmethod
    def parse(cls, reporter: str, output: str | None) -> ReportTarget:
        """Read `--output` as typed: the trailing `/` that marks a new folder is lost in a Path."""
        if output is None:
            return cls(reporter)
        path = Path(output)
        return cls(reporter, path, path.is_dir() or output.endswith(("/", os.sep)))


def prepare(target: ReportTarget) -> None:
    """Create the output folder (or the file's folder) now, before any request is sent."""
    if target.output is None:
        return
    folder = target.output if target.is_directory else target.output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not target.is_directory:
        # Fail now on an unwritable path, not after every run has been made; but create or
        # truncate nothing: a run that never reports must not leave an empty report behind.
        path = target.output
        if path.is_dir():
            raise CliError(f"cannot write report file {path}: it is a folder")
        writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK)
        if not writable:
            raise CliError(f"cannot write report file {path}: Permission denied")


def write_report(
    target: ReportTarget, runs: Iterable[RunResult], *, stdout: TextIO, meta: ReportMeta
) -> None:
    """Consume `runs`, writing them as the target says."""
    if target.output is None and target.reporter == "cli":
        for _ in runs:
            pass  # the console reporter prints each run to stdout as it finishes
    elif target.output is None:
        _write_document(target.reporter, runs, stdout, meta)
    elif target.is_directory:
        _write_per_run(target, runs, meta)
    else:
        with _open(target.output) as file:
            _write_document(target.reporter, runs, file, meta)


def _write_document(
    reporter: str, runs: Iterable[RunResult], out: TextIO, meta: ReportMeta
) -> None:
    # Each writer is imported when chosen: most runs write one format, or none.
    if reporter == "json":
        from reqflo.engine.report.json_report import write_json

        write_json(runs, out, meta=meta)
    elif reporter == "junit":
        from reqflo.engine.report.junit_report import write_junit

        write_junit(runs, out)
    else:
        _write_text(runs, out)


def _write_text(runs: Iterable[RunResult], out: TextIO) -> None:
    from reqflo.cli.console import make_console, run_block, summary_line
    from reqflo.engine.report.summary import ReportSummary

    console = make_console(out, color=False)
    summary = ReportSummary()
    for run in runs:
        summary.add(run)
        console.print(run_block(run))
    console.print(summary_line(summary))


def _write_per_run(target: ReportTarget, runs: Iterable[RunResult], meta: ReportMeta) -> None:
    assert target.output is not None
    extension = _EXTENSIONS[target.reporter]
    for position, run in enumerate(runs, start=1):
        path = target.output / f"{position:05d}-{_file_part(run)}.{extension}"
        with _open(path) as file:
            if target.reporter == "cli":
                _write_text([run], file)
            else:
                _write_document(target.reporter, [run], file, meta)


def _file_part(run: RunResult) -> str:
    name = run.journey_slug + (f"-{run.label}" if run.label else "")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80] or "run"


@contextmanager
def _open(path: Path) -> Iterator[TextIO]:
    try:
        file = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write report file {path}: {exc.strerror}") from None
    with file:
        yield file
