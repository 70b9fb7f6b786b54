"""Issue 13, kind 4: "no value" is not `null`, in every reporter and in stored evidence.

A path that matched nothing, a header that is absent, a body that is not JSON and a check that
could not be evaluated each record `actual_missing` with the reason; a JSON `null` that was
found is an actual value. The CLI prints the reason of every failed assertion; the JSON report
says so in its schema (version 1.1) and the JUnit text says so in words.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from reqflo.cli.console import make_console, run_block
from reqflo.engine import RunResult, StepResult
from reqflo.engine.report import REPORT_SCHEMA, render_json, render_junit
from reqflo.engine.report.schema import SCHEMA_VERSION
from tests.cli.conftest import run_in_process
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

JOURNEY = """
journey:
  name: Missing
  steps:
    - id: doc
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions:
        - {type: json_path, path: $.nope, operator: equals, expected: null}
        - {type: json_path, path: $.note, operator: equals, expected: null}
        - {type: json_path, path: $.note, operator: not_equals, expected: null}
        - {type: header, name: X-Absent, operator: equals, expected: x}
        - {type: json_path, path: $.nope, operator: not_exists}
        - {type: json_path, path: $.note, operator: not_exists}
        - {type: json_path, path: $.nope, operator: exists}
    - id: text
      always: true
      request: {method: GET, url: "{{ env.base_url }}/text"}
      assertions:
        - {type: json_path, path: $.nope, operator: equals, expected: null}
        - {type: status_code, expected: "{{ steps.doc.body.items[7].id }}"}
        # No path is found in a body that is not JSON: "does not exist" holds, "exists" fails.
        - {type: json_path, path: $.nope, operator: not_exists}
        - {type: json_path, path: $.nope, operator: exists}
"""

# (passed, actual, actual_missing) per assertion, in order.
EXPECTED = {
    "doc": [
        (False, None, "path_not_found"),  # the issue's input: `$.nope equals null`
        (True, None, None),  # `$.note` is there, and it is null
        (False, None, None),
        (False, None, "header_absent"),
        (True, None, "path_not_found"),
        (False, None, None),  # `$.note` is there (null): it exists
        (False, None, "path_not_found"),
    ],
    "text": [
        (False, None, "body_not_json"),
        (False, None, "not_evaluated"),
        (True, None, "body_not_json"),
        (False, None, "body_not_json"),
    ],
}


@pytest.fixture(scope="module")
def result(targets: Targets) -> RunResult:
    return run_text(JOURNEY, targets.main.base_url)


def test_each_kind_of_no_value_is_recorded_apart_from_null(result: RunResult) -> None:
    for step in result.steps:
        recorded = [(a.passed, a.actual, a.actual_missing) for a in step.attempts[0].assertions]
        assert recorded == EXPECTED[step.step_id], step.step_id


def test_messages_say_why_there_is_no_value(result: RunResult) -> None:
    doc, text = (step.attempts[0].assertions for step in result.steps)
    assert doc[0].message == (
        "expected $.nope equals null, got no value (the JSONPath matched nothing)"
    )
    assert doc[2].message == "expected $.note does not equal null, got null"
    assert doc[3].message == (
        'expected header X-Absent equals "x", got no value (the response has no such header)'
    )
    assert text[0].message.startswith("$.nope: the response body is not JSON")
    assert "steps.doc.body.items[7].id" in text[1].message
    assert text[2].message.startswith("$.nope does not exist (the response body is not JSON")
    assert text[3].message.startswith("$.nope: the response body is not JSON")


# Operators that take no expected value, and where each reporter writes one.
NOT_TAKEN = "(no value: the operator takes no expected value)"


def test_an_operator_without_an_expected_value_shows_none_anywhere(result: RunResult) -> None:
    """`exists`/`not_exists` record no expected value: not `expected: null` (that would read
    as "expected the JSON null") in the CLI, JUnit, JSON report or stored evidence."""
    for step in result.steps:
        for assertion in step.attempts[0].assertions:
            takes_none = assertion.operator in ("exists", "not_exists")
            assert assertion.expected_missing == ("not_taken" if takes_none else None)
    buffer = io.StringIO()
    make_console(buffer, color=False).print(run_block(result))
    cli = buffer.getvalue()
    junit = render_junit([result])
    for output in (cli, junit):
        assert f"expected: {NOT_TAKEN}" in output
    assert "expected: null" in cli  # `$.nope equals null` does expect the JSON null
    report = json.loads(render_json([result]))
    exists = report["runs"][0]["steps"][0]["attempts"][0]["assertions"][5]
    assert (exists["operator"], exists["expected"], exists["expected_missing"]) == (
        "not_exists",
        None,
        "not_taken",
    )
    equals_null = report["runs"][0]["steps"][0]["attempts"][0]["assertions"][0]
    assert (equals_null["expected"], equals_null["expected_missing"]) == (None, None)
    stored = StepResult.from_dict(json.loads(json.dumps(result.steps[0].to_dict())))
    assert stored.attempts[0].assertions[5].expected_missing == "not_taken"


def test_the_json_report_keeps_missing_apart_and_is_valid(result: RunResult) -> None:
    document = json.loads(render_json([result]))

    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert document["schema"] == "reqflo.report/v1"
    assert document["schema_version"] == SCHEMA_VERSION == "1.3"
    first = document["runs"][0]["steps"][0]["attempts"][0]["assertions"][0]
    assert (first["actual"], first["actual_missing"]) == (None, "path_not_found")
    null_found = document["runs"][0]["steps"][0]["attempts"][0]["assertions"][2]
    assert (null_found["actual"], null_found["actual_missing"]) == (None, None)


def test_junit_says_no_value_instead_of_null(result: RunResult) -> None:
    xml = render_junit([result])

    assert "actual:   (no value: the JSONPath matched nothing)" in xml
    assert "actual:   (no value: the response body is not JSON)" in xml
    assert "actual:   null" in xml  # `$.note not_equals null`: null was found


def test_the_cli_prints_no_value_and_the_reason(result: RunResult) -> None:
    buffer = io.StringIO()
    make_console(buffer, color=False).print(run_block(result))
    output = buffer.getvalue()

    assert "actual:   (no value: the JSONPath matched nothing)" in output
    assert "actual:   (no value: the response has no such header)" in output
    # For a body that is not JSON the reason is printed too.
    assert "reason:   $.nope: the response body is not JSON" in output


def test_stored_evidence_keeps_the_reason_and_reads_old_rows(result: RunResult) -> None:
    stored = json.loads(json.dumps(result.steps[0].to_dict()))
    again = StepResult.from_dict(stored)
    assert again.attempts[0].assertions[0].actual_missing == "path_not_found"

    for assertion in stored["attempts"][0]["assertions"]:
        del assertion["actual_missing"]  # a row written before the fields existed
        del assertion["expected_missing"]
    old = StepResult.from_dict(stored)
    assert old.attempts[0].assertions[0].actual_missing is None
    assert old.attempts[0].assertions[4].expected_missing is None


def test_the_issues_input_through_the_cli(targets: Targets, tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    path.write_text(
        """
journey:
  name: Nope
  steps:
    - id: doc
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: json_path, path: $.nope, operator: equals, expected: null}]
"""
    )
    (tmp_path / "reqflo.yaml").write_text(
        f"environments:\n  local:\n    base_url: {targets.main.base_url}\n"
    )
    result = run_in_process("run", path, "--env", "local", cwd=tmp_path)

    assert result.code == 1
    assert "expected: null" in result.output
    assert "actual:   (no value: the JSONPath matched nothing)" in result.output
    assert "actual:   null" not in result.output
