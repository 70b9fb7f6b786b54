"""What `reqflo run` prints, as plain data, and a printer for logs that needs no `rich`.

CI logs are not terminals: there `reqflo` prints its step tables and summary itself, so a run
in CI never imports rich (~40 ms of every start, issue 17). `Text`, `Table` and `Group` hold
what to print; each also converts itself to rich's objects (`__rich__`), so a rich console (a
terminal, or `FORCE_COLOR`) prints the same things with colour. `PlainConsole` writes them as
rich writes them on a console without colour: the same table layout (heavy header rule, one
space of padding, no outer edge), the same control characters dropped and tabs expanded
(tests/cli/test_plain.py compares both on the same runs). Unlike rich it never wraps a line:
a log keeps each note on one line, whatever its length.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

# rich drops these from every text it prints (bell, backspace, vertical tab, form feed, CR).
_DROPPED = dict.fromkeys((7, 8, 11, 12, 13))
_TAB_SIZE = 8


def clean(text: str) -> str:
    """Return `text` as rich prints it: the control characters above dropped."""
    return text.translate(_DROPPED)


def cell_width(text: str) -> int:
    """Return the columns `text` takes in a terminal: wide East Asian characters take two."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


class Text:
    """Text made of pieces, each with an optional rich style (ignored by `PlainConsole`)."""

    def __init__(self, text: str = "", style: str = "") -> None:
        self._pieces: list[tuple[str, str]] = []
        if text:
            self.append(text, style=style)

    def append(self, text: str, style: str = "") -> Text:
        if text:
            self._pieces.append((clean(text), style))
        return self

    def rstrip(self) -> None:
        """Drop trailing whitespace, as `rich.text.Text.rstrip` does."""
        while self._pieces:
            text, style = self._pieces[-1]
            stripped = text.rstrip()
            if stripped:
                self._pieces[-1] = (stripped, style)
                return
            self._pieces.pop()

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self._pieces)

    def __rich__(self) -> Any:
        from rich.text import Text as RichText

        rich_text = RichText()
        for text, style in self._pieces:
            rich_text.append(text, style=style or None)
        return rich_text


Cell = str | Text


@dataclass
class Column:
    header: str
    justify: Literal["left", "right"] = "left"
    style: str = ""
    overflow: Literal["fold", "ellipsis"] = "ellipsis"


@dataclass
class Table:
    """A table as `reqflo` prints them: a bold header, no outer edge, no padding at the edges."""

    columns: list[Column] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)

    def add_column(
        self,
        header: str,
        *,
        justify: Literal["left", "right"] = "left",
        style: str = "",
        overflow: Literal["fold", "ellipsis"] = "ellipsis",
    ) -> None:
        self.columns.append(Column(header, justify, style, overflow))

    def add_row(self, *cells: Cell) -> None:
        self.rows.append(list(cells))

    def __rich__(self) -> Any:
        from rich.table import Table as RichTable

        table = RichTable(show_edge=False, pad_edge=False, header_style="bold")
        for column in self.columns:
            table.add_column(
                column.header,
                justify=column.justify,
                style=column.style or None,
                overflow=column.overflow,
            )
        for row in self.rows:
            table.add_row(*(cell.__rich__() if isinstance(cell, Text) else cell for cell in row))
        return table

    def lines(self) -> list[str]:
        """Return the table's lines as rich draws them when they fit the console's width."""
        header = [_cell_lines(column.header) for column in self.columns]
        body = [[_cell_lines(cell) for cell in row] for row in self.rows]
        widths = [
            max(cell_width(line) for cells in (header[i], *(r[i] for r in body)) for line in cells)
            for i in range(len(self.columns))
        ]
        last = len(self.columns) - 1
        lines = self._row_lines(header, widths, "┃")
        lines.append(
            "╇".join("━" * (width + (i > 0) + (i < last)) for i, width in enumerate(widths))
        )
        for row in body:
            lines.extend(self._row_lines(row, widths, "│"))
        return lines

    def _row_lines(self, cells: list[list[str]], widths: list[int], bar: str) -> list[str]:
        last = len(self.columns) - 1
        height = max(len(lines) for lines in cells)
        out = []
        for index in range(height):
            parts = []
            for i, (lines, column) in enumerate(zip(cells, self.columns, strict=True)):
                line = lines[index] if index < len(lines) else ""
                if column.justify == "right":
                    line = line.rstrip()  # as rich justifies: trailing spaces do not count
                gap = " " * (widths[i] - cell_width(line))
                text = gap + line if column.justify == "right" else line + gap
                parts.append((" " if i > 0 else "") + text + (" " if i < last else ""))
            out.append(bar.join(parts))
        return out


class Group:
    """Things printed one after the other, each starting on a new line."""

    def __init__(self, *parts: Text | Table) -> None:
        self.parts = parts

    def __rich__(self) -> Any:
        from rich.console import Group as RichGroup

        return RichGroup(*(part.__rich__() for part in self.parts))


Printable = Text | Table | Group


def _cell_lines(cell: Cell) -> list[str]:
    text = cell.plain if isinstance(cell, Text) else clean(cell)
    return text.expandtabs(_TAB_SIZE).split("\n")


def _lines(item: Printable) -> Iterable[str]:
    if isinstance(item, Group):
        for part in item.parts:
            yield from _lines(part)
    elif isinstance(item, Table):
        yield from item.lines()
    else:
        yield from item.plain.expandtabs(_TAB_SIZE).split("\n")


class PlainConsole:
    """Prints `Text`, `Table` and `Group` to a file without colour, wrapping or rich.

    Quacks like the part of `rich.console.Console` the reporters use: `print` and
    `is_terminal` (always False: a terminal gets rich's console, see `make_console`).
    """

    is_terminal = False

    def __init__(self, file: TextIO) -> None:
        self.file = file

    def print(self, item: Printable) -> None:
        self.file.write("".join(line + "\n" for line in _lines(item)))
