"""Finished runs, step results, seals and attempt records cannot change, even through raw SQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from pytest_django.fixtures import Settings

from reqflo.runners.execution import run_execute
from reqflo.runners.leases import checkpoint_commit, lease_take
from reqflo.runners.models import RunAttempt
from reqflo.runs.models import Run, RunSeal, RunStatus, StepResult
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
        "UPDATE runs_stepresult SET digest = '' WHERE run_id = %s",
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


def test_an_extra_step_result_cannot_be_inserted_into_a_finished_run(finished_run: Run) -> None:
    with pytest.raises(IntegrityError, match="finished run are immutable: INSERT"):
        _raw(
            "INSERT INTO runs_stepresult (run_id, index, step_id, status, evidence, checkpoint, "
            "lease_token, attempt, digest, created_at) "
            "VALUES (%s, 3, 'extra', 'passed', '{}'::jsonb, '', 1, 1, '', now())",
            finished_run.pk,
        )
    assert StepResult.objects.filter(run=finished_run).count() == 3


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE runs_stepresult",
        # Tables referring to runs_run (attempts, schedule ticks, ...) go with CASCADE.
        "TRUNCATE runs_stepresult, runs_run CASCADE",
        "TRUNCATE runs_run CASCADE",
    ],
)
@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused(finished_run: Run, sql: str) -> None:
    # Committed rows, as in production (and the test's own flush afterwards gets past the
    # guard only as superuser in replica mode, see tests/conftest.py).
    with pytest.raises(IntegrityError, match="immutable once written or finished: TRUNCATE"):
        _raw(sql)
    assert StepResult.objects.filter(run=finished_run).count() == 3


def test_a_running_run_may_only_re_redact_evidence_and_its_digest(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    checkpoint_commit(lease, index=0, step_id="login", evidence={"status": "passed"}, snapshot={})
    _raw(
        'UPDATE runs_stepresult SET evidence = \'{"status": "passed", "x": 1}\'::jsonb, '
        "digest = 'd' WHERE run_id = %s",
        run.pk,
    )
    for column, value in [("step_id", "'other'"), ("lease_token", "7"), ("index", "5")]:
        with pytest.raises(IntegrityError, match="may only re-redact"):
            _raw(f"UPDATE runs_stepresult SET {column} = {value} WHERE run_id = %s", run.pk)
    row = StepResult.objects.get(run=run)
    assert (row.evidence, row.digest, row.step_id) == ({"status": "passed", "x": 1}, "d", "login")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM runs_runseal WHERE run_id = %s",
        "UPDATE runs_runseal SET digest = repeat('0', 64) WHERE run_id = %s",
        "UPDATE runs_runseal SET run_id = run_id WHERE run_id = %s AND false",  # no row: allowed
        "DELETE FROM runners_runattempt WHERE run_id = %s",
        "UPDATE runners_runattempt SET lease_token = lease_token + 1 WHERE run_id = %s",
        "UPDATE runners_runattempt SET holder = 'someone else' WHERE run_id = %s",
        "UPDATE runners_runattempt SET number = number + 10 WHERE run_id = %s",
    ],
)
def test_a_runs_seal_and_attempt_records_cannot_be_deleted_or_rewritten(
    finished_run: Run, sql: str
) -> None:
    seal = RunSeal.objects.values_list("digest", "signature").get(run=finished_run)
    attempts = list(RunAttempt.objects.filter(run_id=finished_run.pk).values())
    assert attempts
    if "AND false" in sql:
        _raw(sql, finished_run.pk)  # the guard looks at rows, not statements
    else:
        with pytest.raises(IntegrityError, match="are records"):
            _raw(sql, finished_run.pk)
    assert RunSeal.objects.values_list("digest", "signature").get(run=finished_run) == seal
    assert list(RunAttempt.objects.filter(run_id=finished_run.pk).values()) == attempts


def test_a_seals_signature_and_an_attempts_ending_may_be_written(finished_run: Run) -> None:
    """What rotation (re-signing) and lease release (ending an attempt) write."""
    _raw("UPDATE runs_runseal SET signature = repeat('a', 64) WHERE run_id = %s", finished_run.pk)
    _raw("UPDATE runners_runattempt SET detail = 'ended again' WHERE run_id = %s", finished_run.pk)
    assert RunSeal.objects.get(run=finished_run).signature == "a" * 64


@pytest.mark.parametrize("table", ["runs_runseal", "runners_runattempt"])
@pytest.mark.django_db(transaction=True)
def test_truncating_seals_or_attempt_records_is_refused(finished_run: Run, table: str) -> None:
    with pytest.raises(IntegrityError, match="TRUNCATE"):
        _raw(f"TRUNCATE {table}")
    assert RunSeal.objects.filter(run=finished_run).exists()
