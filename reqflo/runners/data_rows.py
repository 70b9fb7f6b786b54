"""Read an uploaded data file (CSV or JSON) into rows of inputs for a batch, as the CLI does.

The same rules as ``reqflo run --data`` (docs/cli.md): a CSV's first line names the inputs and
an empty cell gives no value (the case or default applies); a JSON file is an array of objects.
Every refusal names the file and the line or row, never a traceback.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from reqflo.engine.depth import TooDeep, loads_data

MAX_DATA_BYTES = 5_000_000
MAX_ROWS = 10_000


class DataFileError(ValueError):
    """The data file cannot be read as rows; ``str(error)`` says where and why."""


def read_rows(name: str, content: bytes) -> list[dict[str, Any]]:
    """Return the rows of data file ``name`` (``.csv`` or ``.json``); raise ``DataFileError``."""
    if len(content) > MAX_DATA_BYTES:
        raise DataFileError(f"{name}: at most {MAX_DATA_BYTES:,} bytes (got {len(content):,}).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{name}: not UTF-8 text (byte {exc.start}).") from None
    lower = name.lower()
    if lower.endswith(".csv"):
        rows = _csv_rows(name, text)
    elif lower.endswith(".json"):
        rows = _json_rows(name, text)
    else:
        raise DataFileError(f"{name}: use a .csv or .json file.")
    if not rows:
        raise DataFileError(f"{name}: the file has no rows: nothing to run.")
    if len(rows) > MAX_ROWS:
        raise DataFileError(f"{name}: at most {MAX_ROWS:,} rows (got {len(rows):,}).")
    return rows


def _csv_rows(name: str, text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"{name}: the file is empty; expected a header row.")
        columns = [column.strip() for column in header]
        for position, column in enumerate(columns, start=1):
            if not column:
                raise DataFileError(f"{name} line 1: column {position} has an empty name.")
            if columns.count(column) > 1:
                raise DataFileError(f"{name} line 1: column '{column}' appears twice.")
        rows = []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(columns):
                raise DataFileError(
                    f"{name} line {reader.line_num}: expected {len(columns)} fields "
                    f"({', '.join(columns)}), found {len(cells)}."
                )
            rows.append({k: v for k, v in zip(columns, cells, strict=True) if v != ""})
        return rows
    except csv.Error as exc:
        raise DataFileError(f"{name} line {reader.line_num}: malformed CSV: {exc}.") from None


def _json_rows(name: str, text: str) -> list[dict[str, Any]]:
    try:
        value = loads_data(text, f"{name}")
    except TooDeep as exc:
        raise DataFileError(str(exc)) from None
    except ValueError as exc:
        raise DataFileError(f"{name}: not JSON ({exc}).") from None
    if not isinstance(value, list):
        raise DataFileError(f"{name}: expected a JSON array of objects, one per row.")
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise DataFileError(
                f"{name}: row {index + 1} must be a JSON object with input names as keys."
            )
    return value
