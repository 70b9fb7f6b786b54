"""Data files for ``reqflo run --data``: the engine's one parser, with the CLI's error type.

The parser is ``reqflo.engine.data_rows`` (the server's Run panel uses it too); here its
refusals become ``DataFileError``, a ``CliError`` printed as ``reqflo: <message>`` (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from reqflo.cli.errors import CliError
from reqflo.engine import data_rows
from reqflo.engine.data_rows import LABEL_COLUMNS, DataRow

__all__ = ["LABEL_COLUMNS", "DataFileError", "DataRow", "iter_rows"]


class DataFileError(CliError):
    """A data file that cannot be read, with the file, line and reason in the message."""


def iter_rows(path: Path) -> Iterator[DataRow]:
    """Yield the rows of a `.csv` or `.json` file in order; raise DataFileError on bad input."""
    try:
        yield from data_rows.iter_rows(path)
    except data_rows.DataFileError as exc:
        raise DataFileError(str(exc)) from None
