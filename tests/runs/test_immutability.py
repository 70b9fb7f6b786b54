"""Finished runs and step results cannot change, even through raw SQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from pytest_django.fixtures import Settings

from reqflo.runners.execution import run_execute
from reqflo.runners.leases import checkpoint_commit, lease_take
from reqflo.runs.models import Run, RunStatus, StepResult
from tests.runs.fixtures import MakeScenario, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(make_scenario: MakeScenario, target: Target, settings: Settings) -> Run:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    run = make_scenario().dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    return run


def _raw(sql: str, *params: object) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, list(params))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE runs_stepresult SET status = 'failed' WHERE run_id = %s",
        "UPDATE runs_stepresult SET evidence = '{}'::jsonb WHERE run_id = %s",
        "DELETE FROM runs_stepresult WHERE run_id = %s",
        "UPDATE runs_run SET status = 'failed' WHERE id = %s",
        "UPDATE runs_run SET error_message = 'rewritten', lease_token = 99 WHERE id = %s",
        "DELETE FROM runs_run WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_a_finished_run_or_its_step_results(
    finished_run: Run, sql: str
) -> None:
    with pytest.raises(IntegrityError, match="immutable"):
        _raw(sql, finished_run.pk)
    finished_run.refresh_from_db()
    assert finished_run.status == RunStatus.PASSED
    assert StepResult.objects.filter(run=finished_run, status="passed").count() == 3


def test_a_step_result_of_an_unfinished_run_is_already_immutable(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    checkpoint_commit(lease, index=0, step_id="login", evidence={"status": "passed"}, snapshot={})
    with pytest.raises(IntegrityError, match="immutable"):
        _raw("UPDATE runs_stepresult SET status = 'failed' WHERE run_id = %s", run.pk)
    # The unfinished run itself still moves on.
    _raw("UPDATE runs_run SET attempts = attempts + 1 WHERE id = %s", run.pk)
