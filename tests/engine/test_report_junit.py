"""JUnit XML reports: valid against the Jenkins junit-10.xsd, with correct counts and details."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from reqflo.engine.report import render_junit, write_junit
from reqflo.engine.results import StepError
from tests.cli import samples

# A copy of the Jenkins xUnit schema (shared/reference/junit-10.xsd) kept with the tests.
XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def test_report_validates_against_the_junit_xsd(junit_schema: xmlschema.XMLSchema) -> None:
    xml = render_junit([samples.passing_run("row 1"), samples.failing_run("row 2")])

    junit_schema.validate(xml)


def test_one_testsuite_per_run_named_after_journey_and_label() -> None:
    root = ET.fromstring(render_junit([samples.passing_run("Happy path"), samples.passing_run()]))

    names = [suite.get("name") for suite in root.findall("testsuite")]
    assert names == ["Checkout flow · Happy path", "Checkout flow"]


def test_suite_counts_each_step_status() -> None:
    root = ET.fromstring(render_junit([samples.failing_run()]))

    suite = root.find("testsuite")
    assert suite is not None
    counts = {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped", "time")}
    assert counts == {"tests": "4", "failures": "1", "errors": "1", "skipped": "1", "time": "0.100"}
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")


def test_one_testcase_per_step_with_the_journey_slug_as_classname() -> None:
    root = ET.fromstring(render_junit([samples.failing_run()]))

    cases = root.findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == [
        "1. Step 0",
        "2. Step 1",
        "3. Step 2",
        "4. Step 3",
    ]
    assert {case.get("classname") for case in cases} == {"checkout-flow"}


def test_failure_carries_expected_and_actual() -> None:
    root = ET.fromstring(render_junit([samples.failing_run()]))

    failure = root.find("testsuite/testcase[2]/failure")
    assert failure is not None
    assert failure.get("message") == "expected $.status equals 'paid', got 'pending'"
    assert 'expected: "paid"' in (failure.text or "")
    assert 'actual:   "pending"' in (failure.text or "")


def test_transport_error_becomes_error_element_with_its_kind() -> None:
    root = ET.fromstring(render_junit([samples.failing_run()]))

    error = root.find("testsuite/testcase[4]/error")
    assert error is not None
    assert (error.get("type"), error.get("message")) == ("connect", "connection refused")


def test_skipped_step_carries_the_reason() -> None:
    root = ET.fromstring(render_junit([samples.failing_run()]))

    skipped = root.find("testsuite/testcase[3]/skipped")
    assert skipped is not None
    assert skipped.get("message") == "skipped because step 'step1' failed"


def test_data_row_testcases_carry_the_row_label() -> None:
    root = ET.fromstring(render_junit([samples.passing_run("row 7")]))

    assert root.find("testsuite/testcase").get("name") == "1. Step 0 [row 7]"


def test_control_characters_from_responses_do_not_break_the_xml(
    junit_schema: xmlschema.XMLSchema,
) -> None:
    error = StepError(kind="read", message="peer sent \x00\x07 garbage")
    run = samples.run([samples.step(0, "error", attempts=[samples.attempt(error=error)])])

    xml = render_junit([run])

    junit_schema.validate(xml)
    assert "\x00" not in xml


def test_soft_failures_are_reported_without_failing_the_testcase() -> None:
    soft = samples.assertion(passed=False, actual="pending", soft=True)
    run = samples.run([samples.step(0, "passed", attempts=[samples.attempt(assertions=[soft])])])

    case = ET.fromstring(render_junit([run])).find("testsuite/testcase")

    assert case is not None
    assert case.find("failure") is None
    assert "soft assertion failed" in (case.findtext("system-out") or "")


def test_writer_streams_many_runs_with_totals_first(junit_schema: xmlschema.XMLSchema) -> None:
    out = io.StringIO()

    summary = write_junit((samples.failing_run(f"row {i}") for i in range(200)), out)

    junit_schema.validate(out.getvalue())
    root = ET.fromstring(out.getvalue())
    assert summary.runs == len(root.findall("testsuite")) == 200
    assert root.get("tests") == "800"
