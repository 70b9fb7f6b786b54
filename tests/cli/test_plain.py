"""Logs get what rich prints, without rich: `PlainConsole` against rich's own console.

A run in CI prints its tables through `reqflo.cli.plain.PlainConsole` (rich is not imported);
a terminal prints the same objects through rich. Whatever fits the log's 120 columns must come
out character for character as rich writes it without colour.
"""

from __future__ import annotations

import io

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

from reqflo.cli.console import make_console, run_block, summary_line
from reqflo.cli.plain import Group, PlainConsole, Printable, Table, Text, cell_width
from reqflo.engine.report.summary import ReportSummary
from tests.cli import samples

WIDTH = 120


def rich_output(item: Printable) -> str:
    out = io.StringIO()
    Console(file=out, width=WIDTH, no_color=True, highlight=False, soft_wrap=False).print(item)
    return out.getvalue()


def plain_output(item: Printable) -> str:
    out = io.StringIO()
    PlainConsole(out).print(item)
    return out.getvalue()


def test_a_run_block_and_summary_print_as_rich_prints_them() -> None:
    for run in (
        samples.failing_run(),
        samples.passing_run("row [bold]1[/bold]\twith a tab"),
        samples.failing_run("日本語 label"),
    ):
        summary = ReportSummary()
        summary.add(run)
        assert plain_output(run_block(run)) == rich_output(run_block(run))
        assert plain_output(summary_line(summary)) == rich_output(summary_line(summary))


# Printable text: letters of several scripts (some wide), punctuation, the control characters
# rich drops, newlines inside cells. Not tabs: rich measures a tab in a table cell as one
# column and then expands it (its cells lose their alignment); a log's cells keep theirs.
_CHARS = st.sampled_from([*"ab Z09-_.[]/:é", "日", "本", "\r", "\x07", "\n", "✓", "━"])
_WORDS = st.lists(_CHARS, max_size=14).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    # reqflo's headers are words: never empty, never more than one line.
    headers=st.lists(
        st.text(alphabet="ab #日", min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=4
    ),
    rows=st.lists(st.lists(_WORDS, min_size=4, max_size=4), max_size=4),
    right=st.lists(st.booleans(), min_size=4, max_size=4),
    styled=st.booleans(),
)
def test_any_table_that_fits_prints_as_rich_prints_it(
    headers: list[str], rows: list[list[str]], right: list[bool], styled: bool
) -> None:
    table = Table()
    for header, is_right in zip(headers, right, strict=False):
        table.add_column(header, justify="right" if is_right else "left", style="dim")
    for row in rows:
        cells = row[: len(headers)]
        table.add_row(*(Text(cell, style="red") if styled else cell for cell in cells))
    heading = Text(rows[0][0] if rows else "", style="bold")
    output = plain_output(Group(heading, table, Text("")))
    # Only what fits: rich wraps longer lines, a log does not.
    assume(all(cell_width(line) <= WIDTH for line in output.splitlines()))
    # rich reads markup in plain-string cells; reqflo puts only numbers and durations there.
    assume(styled or not any("[" in cell for row in rows for cell in row))

    assert output == rich_output(Group(heading, table, Text("")))


def test_a_log_gets_the_plain_console_and_a_terminal_gets_rich() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(make_console(io.StringIO()), PlainConsole)
    terminal = make_console(Terminal())
    assert isinstance(terminal, Console)
    assert terminal.is_terminal
