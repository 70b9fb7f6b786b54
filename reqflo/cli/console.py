"""Human output of `reqflo run`: a progress bar, per-step tables and a summary line.

The progress bar goes to stderr and only when stderr is a terminal, so CI logs get the tables and
the summary without carriage-return noise. What is printed is built from `reqflo.cli.plain`'s
objects: a terminal prints them with rich (colours, a live bar), a log with `PlainConsole`, so
a run in CI never imports rich. A single run always prints its step table; a data run
prints the table of each failed run (the first few in full) and one summary, because 100,000
passing rows are not worth 100,000 tables. Everything printed comes from engine results, which are
already redacted; user text is wrapped in `Text` so brackets in it are never read as markup.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from reqflo.cli.plain import Group, PlainConsole, Printable, Table, Text
from reqflo.engine import numbers
from reqflo.engine.report.summary import ReportSummary
from reqflo.engine.results import (
    AssertionResult,
    RunResult,
    StepResult,
    actual_shown,
    expected_shown,
)

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Printer(Protocol):
    """A rich `Console` or a `PlainConsole`."""

    @property
    def is_terminal(self) -> bool: ...

    def print(self, item: Printable) -> None: ...


# After this many failed runs a data run prints one line per further failure, not a table.
DETAILED_FAILURES = 10
# A data run with at most this many rows also lists each passing row on one line.
LISTED_ROWS = 50
# Wide enough that step tables do not wrap in CI logs, where there is no terminal width.
_LOG_WIDTH = 120

_STATUS_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "skipped": "yellow",
}
_STATUS_MARK = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}


def make_console(file: TextIO, *, color: bool | None = None) -> Printer:
    """Return a console on `file`: rich's on a terminal (colours), a `PlainConsole` in logs.

    rich decides what a terminal is (`isatty`, or `FORCE_COLOR` / `TTY_COMPATIBLE` set); the
    plain console is used only where rich would see none, without importing rich.
    """
    if not _maybe_terminal(file):
        return PlainConsole(file)
    from rich.console import Console

    console = Console(file=file, highlight=False, soft_wrap=False, no_color=color is False)
    if not console.is_terminal:
        console = Console(
            file=file, highlight=False, soft_wrap=False, width=_LOG_WIDTH, no_color=True
        )
    return console


def _maybe_terminal(file: TextIO) -> bool:
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return True
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


class ConsoleReporter:
    """Print runs as they finish, show live progress on a terminal, and sum up at the end."""

    def __init__(
        self, out: Printer, progress: Printer, *, total: int, data_run: bool, steps: int = 0
    ) -> None:
        self._out = out
        self._progress_console = progress
        self._total = total
        self._data_run = data_run
        self._steps = steps
        self._detailed = 0
        self._live: Progress | None = None
        self._step_task: TaskID | None = None
        self.summary = ReportSummary()

    def observe(self, runs: Iterable[RunResult]) -> Iterator[RunResult]:
        """Yield `runs` unchanged while printing each one and advancing the progress bar."""
        self._live = self._progress_bar()
        row_task = None
        if self._live is not None and self._data_run:
            row_task = self._live.add_task("runs", total=self._total, failed=0)
        elif self._live is not None:
            self._step_task = self._live.add_task("starting", total=self._steps)
        # Both on one screen: print through the live display so lines land above the bar.
        printer: Printer = self._live.console if self._live and self._out.is_terminal else self._out
        try:
            if self._live:
                self._live.start()
            for run in runs:
                self.summary.add(run)
                if self._live and row_task is not None:
                    failed = self.summary.runs - self.summary.passed
                    self._live.update(row_task, advance=1, failed=failed)
                self._print_run(run, printer)
                yield run
        finally:
            if self._live:
                self._live.stop()

    def on_step(self, step: StepResult) -> None:
        """Advance the step bar of a single run; the engine calls this after each step."""
        if self._live is not None and self._step_task is not None:
            self._live.update(self._step_task, advance=1, description=step.name)

    def print_summary(self, *, wall_ms: float | None = None) -> None:
        self._out.print(summary_line(self.summary, wall_ms=wall_ms))

    def _progress_bar(self) -> Progress | None:
        if not self._progress_console.is_terminal:
            return None
        # Only a terminal shows a bar: CI runs never import rich's progress module (~15 ms).
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        assert isinstance(self._progress_console, Console)  # a terminal's console is rich's

        if not self._data_run:
            return Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("steps"),
                console=self._progress_console,
                transient=True,
            )
        return Progress(
            TextColumn("[bold]Running rows"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeRemainingColumn(),
            console=self._progress_console,
            transient=True,
        )

    def _print_run(self, run: RunResult, printer: Printer) -> None:
        if not self._data_run:
            printer.print(run_block(run))
            return
        if run.passed:
            if self._total <= LISTED_ROWS:
                printer.print(run_heading(run))
            return
        self._detailed += 1
        if self._detailed <= DETAILED_FAILURES:
            printer.print(run_block(run))
        else:
            printer.print(run_heading(run))


def run_heading(run: RunResult) -> Text:
    """Return the one-line title of a run: mark, journey, label, status and duration."""
    text = Text()
    text.append(f"{_STATUS_MARK[run.status]} ", style=_STATUS_STYLE[run.status])
    text.append(run.journey_name, style="bold")
    if run.label:
        text.append(f" · {run.label}")
    if run.environment:
        text.append(f" (env {run.environment})", style="dim")
    text.append(f"  {run.status}", style=_STATUS_STYLE[run.status])
    text.append(f" in {_duration(run.duration_ms)}", style="dim")
    return text


def run_block(run: RunResult) -> Group:
    """Return a run's heading, step table and failure details, ready to print."""
    parts: list[Text | Table] = [run_heading(run), step_table(run)]
    for step in run.steps:
        details = step_details(step)
        if details is not None:
            parts.append(details)
    parts.append(Text(""))
    return Group(*parts)


def step_table(run: RunResult) -> Table:
    """Return one row per step: status, HTTP status code, time, attempts and a short note."""
    table = Table()
    table.add_column("#", justify="right", style="dim")
    table.add_column("Step")
    table.add_column("Status")
    table.add_column("Code", justify="right")
    table.add_column("Time", justify="right")
    table.add_column("Attempts", justify="right")
    table.add_column("Note", overflow="fold")
    for step in run.steps:
        final = step.final
        status = final.response.status if final and final.response else None
        table.add_row(
            str(step.index + 1),
            Text(step.name),
            Text(f"{_STATUS_MARK[step.status]} {step.status}", style=_STATUS_STYLE[step.status]),
            "" if status is None else str(status),
            "" if step.status == "skipped" else _duration(step.duration_ms),
            str(len(step.attempts)) if step.attempts else "",
            Text(step_note(step)),
        )
    return table


def step_note(step: StepResult) -> str:
    """Say in a few words why a step did not pass (or which soft assertions failed)."""
    if step.status == "skipped":
        return step.skip_reason or "skipped"
    if step.status == "error" and step.error is not None:
        return f"{step.error.kind}: {step.error.message}"
    failed = step.failed_assertions
    hard = [a for a in failed if not a.soft]
    if hard:
        return f"{len(hard)} assertion(s) failed"
    if failed:
        return f"{len(failed)} soft assertion(s) failed"
    return ""


def step_details(step: StepResult) -> Text | None:
    """Return expected vs actual for each failed assertion of a step, or None if none failed."""
    failed = step.failed_assertions
    if not failed:
        return None
    text = Text()
    text.append(f"  {step.name}\n", style="bold")
    for assertion in failed:
        _append_assertion(text, assertion)
    text.rstrip()
    return text


def _append_assertion(text: Text, assertion: AssertionResult) -> None:
    subject = " ".join(p for p in (assertion.type, assertion.target, assertion.operator) if p)
    label = "soft " if assertion.soft else ""
    text.append(f"    {label}✗ {subject}\n", style="yellow" if assertion.soft else "red")
    text.append("      expected: ", style="dim")
    text.append(f"{expected_shown(assertion, _value)}\n")
    text.append("      actual:   ", style="dim")
    text.append(f"{actual_shown(assertion, _value)}\n")
    text.append("      reason:   ", style="dim")
    text.append(f"{assertion.message}\n")


def summary_line(summary: ReportSummary, *, wall_ms: float | None = None) -> Text:
    """Return e.g. "200 runs: 198 passed, 2 failed · 1000 steps: ... · 3.20 s"."""
    text = Text()
    style = "bold green" if summary.status == "passed" else "bold red"
    runs = f"{summary.runs} run" + ("" if summary.runs == 1 else "s")
    parts = [f"{summary.passed} passed"]
    parts += [
        f"{n} {label}" for n, label in ((summary.failed, "failed"), (summary.error, "error")) if n
    ]
    text.append(f"{runs}: {', '.join(parts)}", style=style)
    steps = summary.steps
    step_parts = [
        f"{count} {label}"
        for count, label in (
            (steps.passed, "passed"),
            (steps.failed, "failed"),
            (steps.error, "error"),
            (steps.skipped, "skipped"),
        )
        if count
    ]
    noun = "step" if steps.total == 1 else "steps"
    text.append(f" · {steps.total} {noun}: {', '.join(step_parts) or 'none'}")
    timing = f" · {_duration(summary.duration_ms)}"
    if wall_ms is not None and summary.runs > 1:
        # Runs overlap with --parallel, so their sum is not the time the command took.
        timing = f" · {_duration(wall_ms)} (runs total {_duration(summary.duration_ms)})"
    text.append(timing, style="dim")
    return text


def _value(value: Any) -> str:
    text = numbers.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 500 else text[:500] + f"… ({len(text)} characters)"


def _duration(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"
