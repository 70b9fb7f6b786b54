"""Data-driven runs: one run per CSV/JSON row, precedence, malformed files, --parallel order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import EchoServer, run_in_process, run_subprocess, write_journey


def report_runs(stdout: str) -> list[dict]:
    return json.loads(stdout)["runs"]


def test_csv_rows_each_become_a_run_named_by_the_case_column(project: Path) -> None:
    result = run_in_process(
        "run", project / "checkout.yaml", "--data", project / "rows.csv", "--reporter", "json"
    )

    assert result.code == 0, result.output
    runs = report_runs(result.stdout)
    assert [run["label"] for run in runs] == [
        "Tea for one",
        "Two mugs",
        "A teapot",
        "Tea for a team",
    ]
    assert [run["inputs"]["quantity"] for run in runs] == [1, 2, 1, 12]
    assert "case" not in runs[0]["inputs"]


def test_json_rows_keep_their_types_and_default_to_row_numbers(
    project: Path, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"email": "a@x.io", "quantity": 2}, {"email": "b@x.io"}]))

    result = run_in_process("run", project / "checkout.yaml", "--data", rows, "--reporter", "json")

    assert result.code == 0, result.output
    runs = report_runs(result.stdout)
    assert [run["label"] for run in runs] == ["row 1", "row 2"]
    assert [run["inputs"]["quantity"] for run in runs] == [2, 1]


def test_data_row_beats_set_which_beats_the_case(project: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,quantity\nfrom row,4\nno quantity,\n")

    result = run_in_process(
        "run",
        project / "checkout.yaml",
        "--case",
        "Two mugs",
        "--set",
        "quantity=3",
        "--set",
        "email=set@example.com",
        "--data",
        rows,
        "--reporter",
        "json",
    )

    assert result.code == 0, result.output
    runs = report_runs(result.stdout)
    # Row 1: quantity from the row; email from --set over the case; sku from the case.
    assert runs[0]["inputs"] == {
        "email": "set@example.com",
        "password": "•••••",
        "sku": "mug-02",
        "quantity": 4,
    }
    assert runs[0]["label"] == "from row"
    # Row 2: an empty cell gives no value, so --set applies.
    assert runs[1]["inputs"]["quantity"] == 3


def test_csv_cell_that_does_not_fit_the_input_type_names_the_line(
    project: Path, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("email,quantity\na@x.io,1\nb@x.io,many\n")

    result = run_in_process("run", project / "checkout.yaml", "--data", rows)

    assert result.code == 2
    assert 'rows.csv line 3: inputs.quantity: "many" is not a whole number' in result.stderr


def test_json_row_missing_a_required_input_stops_before_sending(
    tmp_path: Path, echo: EchoServer
) -> None:
    journey = parallel_journey(tmp_path, echo.url)  # sleep_ms is required
    rows = tmp_path / "rows.json"
    rows.write_text('[{"sleep_ms": 1},\n {"name": "no sleep"}]')

    result = run_in_process("run", journey, "--data", rows)

    assert result.code == 2
    assert "rows.json line 2: required input(s) sleep_ms have no value" in result.stderr
    assert echo.peers == set()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.csv",
            "email,quantity\na@x.io,1\nb@x.io,2,extra\n",
            "bad.csv line 3: expected 2 fields",
        ),
        ("bad.csv", 'email,quantity\n"a@x.io,1\n', "bad.csv line 2: malformed CSV"),
        ("bad.csv", "email,email\na,b\n", "bad.csv line 1: column 'email' appears twice"),
        ("bad.csv", "", "bad.csv: the file is empty; expected a header row"),
        ("bad.csv", "email\n", "bad.csv: the file has no data rows"),
        ("bad.json", '[{"email": "a"},\n {"email": }]', "bad.json line 2 column 12: invalid JSON"),
        ("bad.json", '{"email": "a"}', "must hold a JSON array of objects"),
        ("bad.json", '[{"email": "a"},\n "b"]', "bad.json line 2: row 2 must be a JSON object"),
        ("bad.json", '[{"email": "a"},]', "trailing comma"),
        (
            "bad.json",
            '[{"email": "a"}',
            "line 1 column 16: expected ',' or ']' after a row; the file ends",
        ),
        ("bad.txt", "email\na\n", "use a .csv or .json file"),
    ],
)
def test_malformed_data_file_exits_2_naming_file_and_place(
    project: Path, tmp_path: Path, name: str, content: str, message: str
) -> None:
    data = tmp_path / name
    data.write_text(content)

    result = run_in_process("run", project / "checkout.yaml", "--data", data)

    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_data_file_that_is_not_utf8_is_reported(project: Path, tmp_path: Path) -> None:
    data = tmp_path / "latin1.csv"
    data.write_bytes("email\nrené@example.com\n".encode("latin-1"))

    result = run_subprocess("run", project / "checkout.yaml", "--data", data)

    assert result.code == 2
    assert "latin1.csv: not UTF-8 text" in result.stderr


def test_unknown_columns_are_reported_and_ignored(project: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("email,quantiy\na@x.io,2\n")

    result = run_in_process("run", project / "checkout.yaml", "--data", rows, "--reporter", "json")

    assert result.code == 0
    assert "'quantiy'; did you mean 'quantity'?" in result.stderr
    assert report_runs(result.stdout)[0]["inputs"]["quantity"] == 1


def test_one_failing_row_makes_the_run_exit_1(project: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("case,email,sku\ngood,a@x.io,tea-01\nunknown sku,b@x.io,nope-99\n")

    result = run_in_process("run", project / "checkout.yaml", "--data", rows)

    assert result.code == 1
    assert "2 runs: 1 passed, 1 failed" in result.stdout
    assert "Checkout flow · unknown sku" in result.stdout
    assert "actual:   422" in result.stdout


def parallel_journey(folder: Path, echo_url: str) -> Path:
    """Return a one-step journey that waits `sleep_ms` on the echo server."""
    return write_journey(
        folder,
        "sleepy.yaml",
        {
            "name": "Sleepy",
            "inputs": [{"name": "sleep_ms", "type": "integer"}],
            "steps": [
                {
                    "id": "wait",
                    "request": {
                        "method": "GET",
                        "url": f"{echo_url}/sleep",
                        "query": {"sleep_ms": "{{ inputs.sleep_ms }}"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )


def test_parallel_results_come_back_in_row_order(tmp_path: Path, echo: EchoServer) -> None:
    rows = tmp_path / "rows.csv"
    # Early rows sleep longest, so they finish last when run side by side.
    rows.write_text("name,sleep_ms\n" + "".join(f"r{i},{200 - i * 20}\n" for i in range(8)))

    result = run_in_process(
        "run",
        parallel_journey(tmp_path, echo.url),
        "--data",
        rows,
        "--parallel",
        "8",
        "--reporter",
        "json",
    )

    assert result.code == 0, result.output
    assert [run["label"] for run in report_runs(result.stdout)] == [f"r{i}" for i in range(8)]
    assert echo.max_in_flight > 1


def test_parallel_never_exceeds_its_bound(tmp_path: Path, echo: EchoServer) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("sleep_ms\n" + "60\n" * 12)

    result = run_in_process(
        "run", parallel_journey(tmp_path, echo.url), "--data", rows, "--parallel", "3"
    )

    assert result.code == 0, result.output
    assert 1 < echo.max_in_flight <= 3


def test_sequential_rows_never_overlap(tmp_path: Path, echo: EchoServer) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("sleep_ms\n" + "20\n" * 4)

    result = run_in_process("run", parallel_journey(tmp_path, echo.url), "--data", rows)

    assert result.code == 0, result.output
    assert echo.max_in_flight == 1
