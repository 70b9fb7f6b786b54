"""Reports of stored runs: the CLI's JSON and JUnit, rebuilt from the evidence the server keeps.

Real runs execute in-process against a loopback target; the documents are validated against
the report schema and the Jenkins junit-10.xsd, and searched for every secret the run used.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from reqflo.engine import RunResult
from reqflo.engine.report import REPORT_SCHEMA, render_json
from reqflo.runners.services import run_cancel
from reqflo.runs.models import RunStatus
from reqflo.runs.reports import (
    RunNotFinished,
    batch_junit_report,
    run_json_report,
    run_junit_report,
    run_result,
)
from tests.engine.test_redaction_spellings import leaked
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Target
from tests.runs.pages import (
    PAGES_JOURNEY,
    SECRET_INPUT,
    finished_batch,
    finished_run,
    queued_run,
)

pytestmark = pytest.mark.django_db

XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
HIDDEN = [API_KEY, TOKEN, SECRET_INPUT]


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def test_a_stored_run_reports_as_the_cli_would_in_the_v1_schema(
    make_scenario: MakeScenario, target: Target
) -> None:
    run = finished_run(make_scenario(PAGES_JOURNEY))
    assert run.status == RunStatus.FAILED, run.error_message
    document = json.loads(run_json_report(run))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    [reported] = document["runs"]
    assert reported["run_id"] == str(run.pk)
    assert reported["status"] == "failed"
    assert [s["status"] for s in reported["steps"]] == ["passed", "failed", "passed"]
    assertions = reported["steps"][1]["attempts"][-1]["assertions"]
    name = next(a for a in assertions if a["target"] == "$.name")
    assert (name["expected"], name["actual"], name["passed"]) == ("Grace", "Ada", False)
    nickname = next(a for a in assertions if a["target"] == "$.nickname")
    assert (nickname["actual"], nickname["actual_missing"]) == (None, "path_not_found")
    assert document["meta"]["runner"] == "cloud"
    assert document["summary"]["steps"] == {
        "total": 3,
        "passed": 2,
        "failed": 1,
        "error": 0,
        "skipped": 0,
    }
    # The same RunResult renders to the same runs through the engine's reporter directly.
    direct = json.loads(render_json([run_result(run)]))
    assert direct["runs"] == document["runs"]


def test_a_stored_runs_junit_validates_against_the_xsd(
    make_scenario: MakeScenario, target: Target, junit_schema: xmlschema.XMLSchema
) -> None:
    run = finished_run(make_scenario(PAGES_JOURNEY))
    text = run_junit_report(run)
    junit_schema.validate(text)
    root = ET.fromstring(text)
    assert (root.get("name"), root.get("tests"), root.get("failures")) == (
        "Profile check",
        "3",
        "1",
    )
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert 'expected: "Grace"' in (failure.text or "")
    assert 'actual:   "Ada"' in (failure.text or "")


def test_no_report_shows_a_secret_the_run_used(make_scenario: MakeScenario, target: Target) -> None:
    run = finished_run(make_scenario(PAGES_JOURNEY))
    assert target.seen_keys[0] == API_KEY  # the run really sent the secret
    for text in (run_json_report(run), run_junit_report(run)):
        assert "•••••" in text
        assert leaked(text, HIDDEN) == []


def test_an_unfinished_run_has_no_report_yet(make_scenario: MakeScenario) -> None:
    run = queued_run(make_scenario(PAGES_JOURNEY))
    with pytest.raises(RunNotFinished, match="still queued"):
        run_json_report(run)


def test_a_cancelled_run_reports_every_step_not_run_with_the_reason(
    make_scenario: MakeScenario, owner: User, junit_schema: xmlschema.XMLSchema
) -> None:
    run = run_cancel(run=queued_run(make_scenario(PAGES_JOURNEY)), by=owner)
    assert run.status == RunStatus.CANCELLED
    result: RunResult = run_result(run)
    assert result.status == "error"
    assert [s.status for s in result.steps] == ["skipped"] * 3
    assert result.steps[0].skip_reason is not None
    assert result.steps[0].skip_reason.startswith("not run: Cancelled by")
    document = json.loads(run_json_report(run))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    junit_schema.validate(run_junit_report(run))


def test_a_batch_gives_one_combined_junit_with_a_suite_per_row(
    make_scenario: MakeScenario, target: Target, junit_schema: xmlschema.XMLSchema
) -> None:
    batch = finished_batch(make_scenario(PAGES_JOURNEY), rows=3)
    text, summary = batch_junit_report(batch)
    junit_schema.validate(text)
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "Profile check · row 1",
        "Profile check · row 2",
        "Profile check · row 3",
    ]
    assert (summary.runs, summary.failed, root.get("tests")) == (3, 3, "9")
    secrets = [API_KEY, TOKEN] + [f"{SECRET_INPUT}-{n}" for n in range(3)]
    assert leaked(text, secrets) == []
