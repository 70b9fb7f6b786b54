"""Issue 13, kind 6 through the CLI: deep bodies are step results, deep inputs exit 2.

A response body nested past the data depth limit fails its checks with a reason, the other
data rows still run and the --output report is whole. An `array`/`object` input nested past the
limit — from `--set`, a CSV cell or a JSON data file — is a usage error naming the limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reqflo.engine.depth import MAX_DATA_DEPTH
from tests.cli.conftest import run_in_process, write_journey
from tests.engine.exactness_target import Targets, targets_fixture  # noqa: F401

LIMIT = f"{MAX_DATA_DEPTH} levels is the limit"


def _journey(folder: Path, base_url: str) -> Path:
    return write_journey(
        folder,
        "deep.yaml",
        {
            "name": "Deep",
            "inputs": [{"name": "doc", "type": "array", "default": []}],
            "steps": [
                {
                    "id": "c",
                    "request": {"method": "GET", "url": f"{base_url}/deep?depth=3000"},
                    "assertions": [
                        {"type": "json_path", "path": "$.b", "operator": "equals", "expected": 1}
                    ],
                    "outputs": {"b": {"from": "body", "path": "$.b"}},
                },
                {
                    "id": "after",
                    "always": True,
                    "request": {
                        "method": "GET",
                        "url": base_url + "/echo?b={{ steps.c.body.b }}",
                    },
                },
            ],
        },
    )


def test_a_deep_body_fails_its_step_and_every_row_is_reported(
    tmp_path: Path, targets: Targets
) -> None:
    journey = _journey(tmp_path, targets.main.base_url)
    rows = tmp_path / "rows.csv"
    rows.write_text("name\none\ntwo\n")
    output = tmp_path / "report.json"

    result = run_in_process("run", journey, "--data", rows, "--output", output)

    assert result.code == 1, result.stderr
    runs = json.loads(output.read_text())["runs"]
    assert [run["label"] for run in runs] == ["one", "two"]
    for run in runs:
        check = run["steps"][0]["attempts"][-1]["assertions"][0]
        assert check["actual_missing"] == "body_too_deep"
        assert run["steps"][1]["status"] == "error"


DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("source", ["set", "csv", "json"])
def test_a_deep_input_is_a_usage_error_naming_the_limit(
    tmp_path: Path, targets: Targets, source: str
) -> None:
    journey = _journey(tmp_path, targets.main.base_url)
    if source == "set":
        extra = ["--set", f"doc={DEEP}"]
    elif source == "csv":
        (tmp_path / "rows.csv").write_text(f'doc\n"{DEEP}"\n')
        extra = ["--data", str(tmp_path / "rows.csv")]
    else:
        (tmp_path / "rows.json").write_text(f'[{{"doc": {DEEP}}}]')
        extra = ["--data", str(tmp_path / "rows.json")]

    result = run_in_process("run", journey, *extra)

    assert result.code == 2, result.stderr
    assert LIMIT in result.stderr
    assert "internal error" not in result.stderr
