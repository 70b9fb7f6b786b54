"""The `reqflo.report/v1` JSON report: valid against its published schema, totals correct."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from reqflo.engine.report import REPORT_SCHEMA, SCHEMA_ID, render_json, write_json
from reqflo.engine.report.schema import SCHEMA_VERSION, SCHEMA_VERSIONS
from reqflo.engine.results import NO_EXPECTED_REASONS, NO_VALUE_REASONS, RunResult
from tests.cli import samples

DOCS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "reqflo.report-v1.schema.json"


def validate(document: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)


def test_report_of_mixed_runs_validates_against_the_schema() -> None:
    runs = [samples.passing_run("row 1"), samples.failing_run("row 2")]

    document = json.loads(render_json(runs, meta={"environment": "demo", "parallel": 2}))

    validate(document)
    assert document["schema"] == SCHEMA_ID
    assert [run["label"] for run in document["runs"]] == ["row 1", "row 2"]
    assert document["meta"] == {"environment": "demo", "parallel": 2}


def test_summary_counts_runs_and_steps_by_status() -> None:
    runs = [samples.passing_run(), samples.failing_run(), samples.passing_run()]

    summary = json.loads(render_json(runs))["summary"]

    assert summary == {
        "status": "failed",
        "runs": 3,
        "passed": 2,
        "failed": 1,
        "error": 0,
        "steps": {"total": 8, "passed": 5, "failed": 1, "error": 1, "skipped": 1},
        "duration_ms": 300.0,
    }


def test_empty_report_is_valid_and_not_passed() -> None:
    document = json.loads(render_json([]))

    validate(document)
    assert document["runs"] == []
    assert document["summary"]["status"] == "failed"


def test_failed_assertion_keeps_expected_and_actual() -> None:
    document = json.loads(render_json([samples.failing_run()]))

    failed_step = document["runs"][0]["steps"][1]
    assertion = failed_step["attempts"][0]["assertions"][0]
    assert (assertion["expected"], assertion["actual"], assertion["passed"]) == (
        "paid",
        "pending",
        False,
    )


def test_runs_round_trip_through_the_report() -> None:
    original = samples.failing_run("Happy path")

    document = json.loads(render_json([original]))

    assert RunResult.from_dict(document["runs"][0]) == original


def test_writer_streams_runs_from_a_generator_and_returns_totals() -> None:
    def runs():
        for index in range(50):
            yield samples.passing_run(f"row {index + 1}")

    out = io.StringIO()
    summary = write_json(runs(), out)

    assert summary.runs == 50
    assert len(json.loads(out.getvalue())["runs"]) == 50


def test_non_finite_numbers_in_actual_values_still_give_valid_json() -> None:
    run = samples.run(
        [
            samples.step(
                0,
                "failed",
                attempts=[
                    samples.attempt(
                        assertions=[
                            samples.assertion(passed=False, expected=1, actual=float("nan"))
                        ]
                    )
                ],
            )
        ]
    )

    text = render_json([run])

    document = json.loads(text, parse_constant=pytest.fail)
    assert document["runs"][0]["steps"][0]["attempts"][0]["assertions"][0]["actual"] == "NaN"


def test_published_schema_file_matches_the_code() -> None:
    assert json.loads(DOCS_SCHEMA.read_text()) == REPORT_SCHEMA


def test_every_value_of_a_closed_list_belongs_to_the_minor_version_that_added_it() -> None:
    """Adding an `actual_missing` reason raises the minor version: a consumer validating
    against the older schema would reject the new value."""
    added = [item for items in SCHEMA_VERSIONS.values() for item in items]
    reasons = {item.split(":", 1)[1] for item in added if item.startswith("actual_missing:")}
    enum = REPORT_SCHEMA["$defs"]["assertion"]["properties"]["actual_missing"]["enum"]

    assert len(added) == len(set(added))
    assert reasons == set(NO_VALUE_REASONS) == set(enum) - {None}
    assert SCHEMA_VERSION == list(SCHEMA_VERSIONS)[-1] == "1.3"
    taken = {item.split(":", 1)[1] for item in added if item.startswith("expected_missing:")}
    enum = REPORT_SCHEMA["$defs"]["assertion"]["properties"]["expected_missing"]["enum"]
    assert taken == set(NO_EXPECTED_REASONS) == set(enum) - {None}
    assert json.loads(render_json([samples.passing_run()]))["schema_version"] == SCHEMA_VERSION
    docs = (DOCS_SCHEMA.parent / "report-format.md").read_text()
    for version, items in SCHEMA_VERSIONS.items():
        if items:
            row = next(line for line in docs.splitlines() if line.startswith(f"| `{version}` |"))
            for item in items:
                assert f"`{item.rsplit(':', 1)[-1]}`" in row, (version, item)
