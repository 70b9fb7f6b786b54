"""A self-hosted runner's evidence keeps its exact numbers (issue 13, "numbers pass through
float"): a checkpoint sent as the runner sends it (``numbers.dumps``) is stored with each
number as a JSON number with its digits, verifies its digest chain, and a later claim hands the
stored results back with the same digits."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.runners.services import run_cancel
from reqflo.runs.models import Run, StepResult
from reqflo.runs.selectors import verify_run_chain
from tests.runners.test_self_hosted_protocol import BOOT, _claim, _dispatch, _register
from tests.runs.fixtures import MakeScenario, Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


JSON_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)


def _post(key: str, path: str, body: dict[str, Any]) -> Any:
    # As reqflo.cli.runner sends it: the engine's JSON, numbers exact.
    return Client().post(
        f"/api/v1/runner{path}",
        numbers.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=JSON_NUMBERS)
@example(number="100.10")
@example(number="1e400")
@example(number="-0")
def test_a_runners_checkpoint_keeps_exact_numbers(number: str, scenario: Scenario) -> None:
    key = _register(scenario, f"r{Run.objects.count()}")
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    assert job["run_id"] == str(run.pk)
    value = numbers.parse_number(number)
    evidence = {
        "index": 0,
        "step_id": job["plan"]["steps"][0]["id"],
        "name": "login",
        "status": "passed",
        "attempts": [],
        "outputs": {"n": value, "list": [value]},
        "duration_ms": 1.0,
        "logs": [],
    }
    answer = _post(
        key,
        f"/runs/{run.pk}/checkpoint",
        {
            "token": job["lease"]["token"],
            "boot_id": BOOT,
            "attempt": job["lease"]["attempt"],
            "index": 0,
            "evidence": evidence,
            "snapshot": numbers.dumps({"run_id": str(run.pk), "contexts": {}}),
        },
    )
    assert answer.status_code == 200, answer.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT evidence::text FROM runs_stepresult WHERE run_id = %s", [run.pk])
        stored = cursor.fetchone()[0]
    assert f'"n":{number}' in stored, stored
    outputs = StepResult.objects.get(run=run).evidence["outputs"]
    assert numbers.is_number(outputs["n"])
    assert numbers.text(outputs["n"]) == number
    assert verify_run_chain(run).ok

    # Released and claimed again: the stored result comes back with the same digits.
    released = _post(
        key,
        f"/runs/{run.pk}/release",
        {"token": job["lease"]["token"], "boot_id": BOOT, "attempt": job["lease"]["attempt"]},
    )
    assert released.status_code == 200, released.content
    again = numbers.loads(_claim(key).content)["job"]
    [result] = again["checkpoint"]["results"]
    assert numbers.is_number(result["outputs"]["n"])
    assert numbers.text(result["outputs"]["n"]) == number
    run_cancel(run=run, by=scenario.owner)  # frees the workspace's slot for the next example
