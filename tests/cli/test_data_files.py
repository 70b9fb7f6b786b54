"""Reading data files row by row: chunk boundaries, line numbers, flat memory."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from reqflo.cli.data import DataFileError, iter_rows
from reqflo.engine import data_rows as data


def test_json_rows_split_across_read_chunks_decode_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_CHUNK_CHARS", 7)  # cut every object several times
    rows = [{"email": f"user{i}@example.com", "tags": ["a", "b"], "n": i} for i in range(20)]
    path = tmp_path / "rows.json"
    text = json.dumps(rows, indent=2)
    path.write_text(text)

    read = list(iter_rows(path))

    assert [row.values for row in read] == rows
    # A row's line is the line of its opening brace, the one before its "email" key.
    email_line = text.splitlines().index('    "email": "user7@example.com",') + 1
    assert read[7].line == email_line - 1


def test_json_error_after_many_chunks_names_the_right_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_CHUNK_CHARS", 5)
    path = tmp_path / "rows.json"
    path.write_text('[\n  {"a": 1},\n  {"a": 2},\n  {"a": tru}\n]')

    with pytest.raises(DataFileError, match=r"rows.json line 4 column 9: invalid JSON"):
        list(iter_rows(path))


def test_empty_json_array_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(" [ ] \n")

    assert list(iter_rows(path)) == []


def test_text_after_the_array_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text('[{"a": 1}]\n[{"a": 2}]')

    with pytest.raises(DataFileError, match="unexpected text after the closing"):
        list(iter_rows(path))


def test_csv_byte_order_mark_and_quoted_newlines_are_handled(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes('\ufeffname,note\nfirst,"two\nlines"\nsecond,plain\n'.encode())

    read = list(iter_rows(path))

    assert [row.values for row in read] == [
        {"name": "first", "note": "two\nlines"},
        {"name": "second", "note": "plain"},
    ]
    assert [row.label for row in read] == ["first", "second"]
    assert [row.line for row in read] == [3, 4]


def test_case_column_wins_over_name_column_for_the_label(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("name,case\nAda,Happy path\nGrace,\n")

    assert [row.label for row in iter_rows(path)] == ["Happy path", "Grace"]


def test_blank_lines_in_csv_are_not_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("email\na@x.io\n\nb@x.io\n")

    assert [row.values["email"] for row in iter_rows(path)] == ["a@x.io", "b@x.io"]


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_reading_rows_holds_one_row_at_a_time(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"big.{suffix}"
    with path.open("w") as file:
        if suffix == "csv":
            file.write("email,quantity\n")
            file.writelines(f"user{i}@example.com,{i}\n" for i in range(50_000))
        else:
            file.write("[\n")
            file.write(",\n".join(f'{{"email": "user{i}@example.com"}}' for i in range(50_000)))
            file.write("\n]")

    tracemalloc.start()
    count = sum(1 for _ in iter_rows(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert count == 50_000
    # A list of 50,000 rows would need well over 10 MB; streaming stays near one chunk.
    assert peak < 2 * 1024 * 1024


def test_malformed_json_row_does_not_read_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_CHUNK_CHARS", 10)
    monkeypatch.setattr(data, "_MAX_ROW_CHARS", 50)
    path = tmp_path / "rows.json"
    # An unterminated string swallows the rest of the file: the reader must give up early.
    path.write_text('[{"a": "open' + "x" * 100_000 + "]")

    with path.open() as file:
        with pytest.raises(data.DataFileError, match="line 1 column 8: invalid JSON: Unterminated"):
            list(data._json_rows(file, "rows.json"))
        assert file.tell() < 1000
