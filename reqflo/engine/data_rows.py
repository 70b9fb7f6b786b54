"""Read data rows from CSV or JSON files for data-driven runs: the one parser of data files.

The CLI (``reqflo run --data``, local and ``--cloud``) and the server's Run panel read data
files here, so a file means the same everywhere (docs/cli.md, "Data files"): a CSV's first line
names the columns and an empty cell gives no value; a JSON file is an array of objects; the
column ``case`` (else ``name``) labels a row in reports and pages.

Rows are read lazily, one at a time, so a 100,000-row file costs the memory of one row. The CLI
reads a file twice: once to check every row before the first request is sent (a malformed row
near the end must stop the run with exit 2, not after thousands of runs went out), then to run.
An upload (``read_rows``) is read whole, within ``MAX_DATA_BYTES`` and ``MAX_ROWS``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from reqflo.engine import numbers
from reqflo.engine.depth import data_too_deep
from reqflo.engine.errors import quoted

# The column that names a row in reports; `case` wins when a file has both.
LABEL_COLUMNS = ("case", "name")

_CHUNK_CHARS = 64 * 1024
# A row is never this big; stop reading ahead for the end of a malformed one past this size.
_MAX_ROW_CHARS = 16 * 1024 * 1024
_JSON_WHITESPACE = " \t\n\r"


# An uploaded data file (the Run panel) is read whole, so it is bounded.
MAX_DATA_BYTES = 5_000_000
MAX_ROWS = 10_000


class DataFileError(ValueError):
    """A data file that cannot be read, with the file, line and reason in the message."""


@dataclass(frozen=True)
class DataRow:
    """One row of a data file: its 0-based position, its values and its optional label."""

    index: int
    values: dict[str, Any]
    label: str | None
    line: int

    @property
    def title(self) -> str:
        """How output names the row: its ``case``/``name`` column, else ``row N`` (1-based)."""
        return self.label if self.label is not None else f"row {self.index + 1}"


def iter_rows(path: Path) -> Iterator[DataRow]:
    """Yield the rows of a `.csv` or `.json` file in order; raise DataFileError on bad input."""
    reader = _reader_for(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            yield from reader(file, path.name)
    except FileNotFoundError:
        raise DataFileError(f"data file {path} does not exist") from None
    except OSError as exc:  # a directory, no permission...
        raise DataFileError(f"cannot read data file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded)"
        ) from None


def read_rows(name: str, content: bytes) -> list[DataRow]:
    """Return every row of the uploaded data file ``name``; raise ``DataFileError``.

    The same rules as ``iter_rows``, within ``MAX_DATA_BYTES`` and ``MAX_ROWS``; a file with
    no row is refused (there is nothing to run).
    """
    if len(content) > MAX_DATA_BYTES:
        raise DataFileError(f"{name}: at most {MAX_DATA_BYTES:,} bytes (got {len(content):,})")
    reader = _reader_for(Path(name))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"{name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded)"
        ) from None
    rows: list[DataRow] = []
    for row in reader(io.StringIO(text, newline=""), name):
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise DataFileError(f"{name}: at most {MAX_ROWS:,} rows")
    if not rows:
        raise DataFileError(f"{name}: the file has no rows: nothing to run")
    return rows


def row_columns(rows: list[DataRow]) -> set[str]:
    """Return every column that gives a value in at least one of ``rows``."""
    return {name for row in rows for name in row.values}


def _reader_for(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows
    if suffix == ".json":
        return _json_rows
    raise DataFileError(f"data file {path.name}: use a .csv or .json file (got '{suffix or path}')")


def row_label(values: Mapping[str, Any]) -> str | None:
    """Return the row's name: its ``case`` column, else its ``name`` column (None: neither)."""
    for column in LABEL_COLUMNS:
        value = values.get(column)
        if value not in (None, ""):
            return str(value)
    return None


def _csv_rows(file: IO[str], source: str) -> Iterator[DataRow]:
    reader = csv.reader(file, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"{source}: the file is empty; expected a header row")
        columns = _csv_header(header, source)
        for index, cells in enumerate(reader):
            if not cells:
                continue  # csv yields [] for a blank line; a blank line is not a row
            if len(cells) != len(columns):
                raise DataFileError(
                    f"{source} line {reader.line_num}: expected {len(columns)} fields "
                    f"({', '.join(columns)}), found {len(cells)}"
                )
            # An empty cell gives no value, so the --set, case or default value applies: a sparse
            # table overrides only what differs per row. (A JSON file can hold "".)
            values = {key: cell for key, cell in zip(columns, cells, strict=True) if cell != ""}
            yield DataRow(index=index, values=values, label=row_label(values), line=reader.line_num)
    except csv.Error as exc:
        raise DataFileError(f"{source} line {reader.line_num}: malformed CSV: {exc}") from None


def _csv_header(header: list[str], source: str) -> list[str]:
    columns = [name.strip() for name in header]
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            raise DataFileError(f"{source} line 1: column {position} has an empty name")
        if name in seen:
            raise DataFileError(f"{source} line 1: column '{name}' appears twice")
        seen.add(name)
    return columns


def _json_rows(file: IO[str], source: str) -> Iterator[DataRow]:
    stream = _JsonArrayStream(file, source)
    for index, (value, line) in enumerate(stream):
        if not isinstance(value, dict):
            raise DataFileError(
                f"{source} line {line}: row {index + 1} must be a JSON object "
                f"with input names as keys, found {_json_kind(value)}"
            )
        yield DataRow(index=index, values=value, label=row_label(value), line=line)


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


class _JsonArrayStream:
    """Decode the elements of a top-level JSON array one at a time from a text stream.

    The stdlib decoder parses each element (`raw_decode`); this class only finds the brackets
    and commas between elements and keeps a bounded buffer, tracking line numbers for errors.
    """

    def __init__(self, file: IO[str], source: str) -> None:
        self._file = file
        self._source = source
        self._buffer = ""
        self._pos = 0
        self._lines_before = 0  # newlines in text already dropped from the buffer
        self._columns_before = 0  # characters of the current line already dropped
        self._eof = False
        # Numbers keep every digit and their text, as in the engine (`numbers.loads`).
        self._decoder = json.JSONDecoder(
            parse_float=numbers.parse_json_float, parse_int=numbers.parse_json_int
        )

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        if self._next_char() != "[":
            found = "nothing" if self._at_end() else quoted(self._buffer[self._pos])
            self._fail("the file must hold a JSON array of objects ([{...}, ...]); found " + found)
        self._pos += 1
        if self._next_char() == "]":
            self._pos += 1
        else:
            while True:
                yield self._decode_element()
                separator = self._next_char()
                if separator == ",":
                    self._pos += 1
                    if self._next_char() == "]":
                        self._fail("trailing comma before ']'")
                    continue
                if separator == "]":
                    self._pos += 1
                    break
                self._fail("expected ',' or ']' after a row" + self._found())
        if self._next_char() is not None:
            self._fail("unexpected text after the closing ']'")

    def _decode_element(self) -> tuple[Any, int]:
        if self._next_char() is None:
            self._fail("the array is not closed with ']'")
        while True:
            line, start = self._line(), self._pos
            try:
                value, end = self._decoder.raw_decode(self._buffer, start)
            except RecursionError:
                self._pos = start
                self._fail(str(data_too_deep("the row")))
            except json.JSONDecodeError as exc:
                if len(self._buffer) - start < _MAX_ROW_CHARS and self._fill():
                    continue  # the element may just be cut by the chunk boundary
                # _fill dropped the `start` characters before the element from the buffer.
                self._pos = exc.pos - start
                self._fail(f"invalid JSON: {exc.msg}")
            self._pos = end
            return value, line

    def _next_char(self) -> str | None:
        """Skip whitespace and return the next character without consuming it (None at end)."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _JSON_WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return None

    def _fill(self) -> bool:
        """Drop consumed text, read the next chunk and say whether anything new arrived."""
        if self._eof:
            return False
        consumed = self._buffer[: self._pos]
        newlines = consumed.count("\n")
        if newlines:
            self._lines_before += newlines
            self._columns_before = len(consumed) - (consumed.rfind("\n") + 1)
        else:
            self._columns_before += len(consumed)
        self._buffer = self._buffer[self._pos :]
        self._pos = 0
        chunk = self._file.read(_CHUNK_CHARS)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def _at_end(self) -> bool:
        return self._pos >= len(self._buffer) and self._eof

    def _line(self) -> int:
        return self._lines_before + self._buffer.count("\n", 0, self._pos) + 1

    def _found(self) -> str:
        if self._at_end():
            return "; the file ends before the array is closed"
        return f"; found {quoted(self._buffer[self._pos])}"

    def _fail(self, reason: str) -> Any:
        newline = self._buffer.rfind("\n", 0, self._pos)
        # Without a newline in the buffer, the line began in text already dropped.
        offset = -newline if newline >= 0 else self._columns_before + 1
        column = self._pos + offset
        raise DataFileError(f"{self._source} line {self._line()} column {column}: {reason}")
