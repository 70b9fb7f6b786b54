"""Data files uploaded in the Run panel: the engine's one parser, as the CLI reads them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.data_rows import DataFileError, DataRow, read_rows


def _values(rows: list[DataRow]) -> list[dict[str, object]]:
    return [row.values for row in rows]


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
CELLS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=20
)


@settings(deadline=None)  # a shared, loaded machine: parsing time says nothing here
@given(
    columns=st.lists(NAMES, min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_a_csv_written_by_any_tool_reads_back_its_rows(
    columns: list[str], data: st.DataObject
) -> None:
    rows = data.draw(
        st.lists(st.fixed_dictionaries(dict.fromkeys(columns, CELLS)), min_size=1, max_size=8)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    read = _values(read_rows("rows.csv", buffer.getvalue().encode()))
    # An empty cell gives no value (the case or default applies), as `reqflo run --data` does.
    expected = [{c: v for c, v in row.items() if v != ""} for row in rows]
    assert read == expected


@given(
    st.lists(st.dictionaries(NAMES, st.integers() | st.text(max_size=10), max_size=4), min_size=1)
)
def test_a_json_array_of_objects_reads_back_as_is(rows: list[dict[str, object]]) -> None:
    assert _values(read_rows("rows.json", json.dumps(rows).encode())) == rows


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.txt", b"a\n1\n", "data file rows.txt: use a .csv or .json file"),
        ("rows.csv", b"", "rows.csv: the file is empty; expected a header row"),
        ("rows.csv", b"a,a\n1,2\n", "rows.csv line 1: column 'a' appears twice"),
        ("rows.csv", b"a,b\n1\n", "rows.csv line 2: expected 2 fields (a, b), found 1"),
        ("rows.csv", b"a\n", "rows.csv: the file has no rows: nothing to run"),
        (
            "rows.json",
            b'{"a": 1}',
            "rows.json line 1 column 1: the file must hold a JSON array of objects",
        ),
        (
            "rows.json",
            b"[1]",
            "rows.json line 1: row 1 must be a JSON object with input names as keys",
        ),
        ("rows.json", b"[", "rows.json line 1 column 2: the array is not closed"),
        ("rows.csv", b"\xff\xfe", "rows.csv: not UTF-8 text (byte 0xff cannot be decoded)"),
    ],
)
def test_a_broken_file_is_named_with_where_and_why(name: str, content: bytes, message: str) -> None:
    with pytest.raises(DataFileError) as error:
        read_rows(name, content)
    assert str(error.value).startswith(message)
