"""The `cli` reporter: step tables, failures only for big data runs, progress on a tty."""

from __future__ import annotations

import io
from collections.abc import Iterator

from rich.console import Console

from reqflo.cli.console import DETAILED_FAILURES, ConsoleReporter, make_console, run_block
from reqflo.engine import RunResult
from tests.cli import samples


def consoles(*, terminal: bool) -> tuple[Console, io.StringIO, Console, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return (
        Console(file=out, width=120, no_color=True),
        out,
        Console(file=err, width=120, force_terminal=terminal),
        err,
    )


def test_single_run_prints_its_step_table_and_failure_details() -> None:
    out_console, out, progress, _ = consoles(terminal=False)
    reporter = ConsoleReporter(out_console, progress, total=1, data_run=False)

    list(reporter.observe([samples.failing_run()]))
    reporter.print_summary()

    text = out.getvalue()
    for expected in (
        "Step 1",
        "✗ failed",
        "- skipped",
        "connect: connection refused",
        'expected: "paid"',
        'actual:   "pending"',
        "1 run: 0 passed, 1 failed · 4 steps: 1 passed, 1 failed, 1 error, 1 skipped",
    ):
        assert expected in text


def test_large_data_run_prints_failures_only_and_caps_the_tables() -> None:
    out_console, out, progress, _ = consoles(terminal=False)
    runs = [samples.passing_run(f"ok {i}") for i in range(60)]
    runs += [samples.failing_run(f"bad {i}") for i in range(DETAILED_FAILURES + 2)]
    reporter = ConsoleReporter(out_console, progress, total=len(runs), data_run=True)

    list(reporter.observe(runs))

    text = out.getvalue()
    assert "ok 0" not in text
    # "Step 0" (a passing step) appears once per printed table.
    assert text.count("Step 0") == DETAILED_FAILURES
    assert f"bad {DETAILED_FAILURES + 1}" in text  # later failures still get their line


def test_single_run_shows_live_step_progress_on_a_terminal() -> None:
    out_console, out, progress, err = consoles(terminal=True)
    reporter = ConsoleReporter(out_console, progress, total=1, data_run=False, steps=4)
    run = samples.failing_run()

    def runs() -> Iterator[RunResult]:
        for step in run.steps:  # what the engine's on_step callback reports while running
            reporter.on_step(step)
        yield run

    list(reporter.observe(runs()))

    assert "4/4" in err.getvalue()
    assert "steps" in err.getvalue()
    assert "4/4" not in out.getvalue()


def test_progress_bar_goes_to_a_terminal_only() -> None:
    for terminal in (True, False):
        out_console, out, progress, err = consoles(terminal=terminal)
        reporter = ConsoleReporter(out_console, progress, total=3, data_run=True)

        list(reporter.observe([samples.passing_run(f"r{i}") for i in range(3)]))

        assert ("Running rows" in err.getvalue()) is terminal
        assert "Running rows" not in out.getvalue()


def test_user_text_with_brackets_is_not_read_as_markup() -> None:
    out_console, out, progress, _ = consoles(terminal=False)
    run = samples.passing_run("[bold]row[/bold] [red]")

    list(ConsoleReporter(out_console, progress, total=1, data_run=False).observe([run]))

    assert "[bold]row[/bold] [red]" in out.getvalue()


def test_log_console_prints_without_colour() -> None:
    out = io.StringIO()
    console = make_console(out, color=True)
    console.print(run_block(samples.failing_run()))

    assert "\x1b[" not in out.getvalue()
    assert "1 assertion(s) failed" in out.getvalue()
