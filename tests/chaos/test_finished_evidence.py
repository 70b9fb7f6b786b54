"""A run finished by a real worker: raw SQL cannot insert, change, delete or truncate its results.

The triggers themselves are ``reqflo/runs/triggers.py``; ``tests/runs/test_immutability.py``
covers them in-process. Here each statement comes from a connection of its own, committed.
"""

from __future__ import annotations

import psycopg
import pytest

from reqflo.runs.models import Run, RunStatus, StepResult
from tests.chaos.conftest import ChaosTarget, MakeWorkspace, hold_connection
from tests.runners.workers import Workers, finished, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


UPDATE = "UPDATE runs_stepresult SET status = 'failed' WHERE run_id = %(run)s"
DELETE = "DELETE FROM runs_stepresult WHERE run_id = %(run)s"
INSERT = (
    "INSERT INTO runs_stepresult (run_id, index, step_id, status, evidence, checkpoint,"
    " lease_token, attempt, digest, created_at)"
    " VALUES (%(run)s, 99, 'x', 'passed', '{}', '', 1, 1, '', now())"
)
TRUNCATE = "TRUNCATE runs_stepresult"


def _refused_one_by_one(run: Run, statements: list[str]) -> None:
    for sql in statements:
        with hold_connection() as other:
            other.autocommit = True
            with pytest.raises(psycopg.errors.Error, match="immutable"):
                other.execute(sql, {"run": run.pk})
    assert Run.objects.filter(pk=run.pk, status=RunStatus.PASSED).exists()
    assert list(StepResult.objects.filter(run=run).values_list("index", "status")) == [
        (0, "passed"),
        (1, "passed"),
    ]


def _finished_run(make: MakeWorkspace, workers: Workers) -> Run:
    run = make(steps=2).dispatch()
    workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    return run


def test_raw_insert_update_delete_and_truncate_of_a_finished_runs_results_are_refused(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    run = _finished_run(chaos_workspace, chaos_workers)
    _refused_one_by_one(run, [INSERT, UPDATE, DELETE, TRUNCATE])
