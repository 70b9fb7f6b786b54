"""One engine loop for the CLI and the worker: a secret captured late is masked in earlier steps.

Step ``peek`` calls the login endpoint without capturing anything, so its stored response body
shows the session token; step ``login`` captures the same token as a secret output. The CLI
always re-redacted ``peek`` in memory; the worker now does too, and rewrites the stored row in
the checkpoint of ``login`` (the chain re-computed), so the token is in no row.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.engine import REDACTED, compile_definition, definition_from_data, run_artifact
from reqflo.runners.execution import run_execute
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.runs.selectors import verify_run_chain
from tests.runners.workers import Workers, finished, region, wait_for, workers
from tests.runs.fixtures import API_KEY, THREE_STEPS, TOKEN, MakeScenario, Target

__all__ = ["region", "workers"]  # fixtures

_LOGIN = THREE_STEPS["journey"]["steps"][0]
PEEK_THEN_LOGIN: dict[str, Any] = {
    "journey": {
        "name": "Peek then login",
        "steps": [
            {
                "id": "peek",
                "request": _LOGIN["request"],
                "assertions": [{"type": "status_code", "expected": 200}],
            },
            _LOGIN,
            THREE_STEPS["journey"]["steps"][1],
        ],
    }
}


def _rows(run: Run) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM runs_run t WHERE id = %s", [run.pk])
        rows = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT row_to_json(t)::text FROM runs_stepresult t WHERE run_id = %s", [run.pk]
        )
        return "\n".join(rows + [r[0] for r in cursor.fetchall()])


def _peek_body(run: Run) -> str:
    evidence = StepResult.objects.get(run=run, index=0).evidence
    body: str = evidence["attempts"][-1]["response"]["body"]
    return body


def _assert_re_redacted(run: Run) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert TOKEN not in _rows(run)
    assert API_KEY not in _rows(run)
    assert json.loads(_peek_body(run)) == {"token": REDACTED}
    check = verify_run_chain(run)
    assert check.ok, check.reason
    assert check.steps == 3


def test_the_cli_masks_a_late_secret_in_earlier_steps(target: Target) -> None:
    artifact = compile_definition(definition_from_data(PEEK_THEN_LOGIN))
    seen: list[str] = []
    result = run_artifact(
        artifact,
        inputs={},
        environment={"base_url": target.url},
        secrets={"api_key": API_KEY},
        on_step=lambda step: seen.append(step.step_id),
    )
    assert result.status == "passed"
    assert seen == ["peek", "login", "profile"]
    assert TOKEN not in json.dumps(result.to_dict())
    assert json.loads(result.steps[0].attempts[-1].response.body) == {"token": REDACTED}  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_worker_rewrites_the_earlier_stored_step_in_process(
    make_scenario: MakeScenario, target: Target, settings: Settings
) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    run = make_scenario(PEEK_THEN_LOGIN).dispatch()
    run_execute(run_id=run.pk)
    _assert_re_redacted(run)
    assert [target.count(p) for p in ("/login", "/profile")] == [2, 1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_cloud_runner_masks_a_late_secret_in_earlier_stored_steps(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    run = make_scenario(PEEK_THEN_LOGIN, region=region).dispatch()
    workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    _assert_re_redacted(run)
    workers.stop_all()
    log = workers.log_text()
    assert f"Run {run.pk} step 3/3 profile: passed" in log
    assert TOKEN not in log
    assert API_KEY not in log
