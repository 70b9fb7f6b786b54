"""Leases, fencing tokens, the sweeper and the retry policies, deterministically in-process."""

from __future__ import annotations

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.engine import Artifact, execute_step
from reqflo.runners.execution import run_execute, run_state_for
from reqflo.runners.leases import (
    CheckpointOutOfOrder,
    Lease,
    LeaseLost,
    checkpoint_commit,
    lease_take,
    run_finish,
)
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.secrets.resolution import secrets_resolve_for_plan
from tests.runs.fixtures import MakeScenario, Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


def _expire(run: Run) -> None:
    """Move the lease expiry into the past by the database clock, as if the worker died."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
            [run.pk],
        )


def _take(run: Run) -> Lease:
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    return lease


def _checkpoint(lease: Lease, index: int = 0) -> None:
    checkpoint_commit(
        lease, index=index, step_id="login", evidence={"status": "passed"}, snapshot={}
    )


def test_taking_a_lease_increments_the_fencing_token_and_counts_the_attempt(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    first = _take(run)
    assert lease_take(run_id=run.pk) is None  # held and not expired: not this worker's
    _expire(run)
    second = _take(run)
    assert (first.token, first.attempt) == (1, 1)
    assert (second.token, second.attempt) == (2, 2)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.lease_expires_at is not None


def test_a_stale_lease_token_cannot_write_a_checkpoint(make_scenario: MakeScenario) -> None:
    run = make_scenario().dispatch()
    stale = _take(run)
    _expire(run)
    current = _take(run)
    with pytest.raises(LeaseLost, match="lease token 1 is no longer current"):
        _checkpoint(stale)
    assert not StepResult.objects.filter(run=run).exists()
    _checkpoint(current)
    row = StepResult.objects.get(run=run)
    assert (row.lease_token, row.attempt) == (2, 2)
    run.refresh_from_db()
    assert run.next_step == 1


def test_a_stale_lease_token_cannot_finish_the_run(make_scenario: MakeScenario) -> None:
    run = make_scenario().dispatch()
    stale = _take(run)
    _expire(run)
    _take(run)
    with pytest.raises(LeaseLost):
        run_finish(stale, status=RunStatus.PASSED)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_checkpoint_for_a_step_already_stored_is_rejected(make_scenario: MakeScenario) -> None:
    run = make_scenario().dispatch()
    lease = _take(run)
    _checkpoint(lease, 0)
    # Out of order, not a lost lease: the lease still holds.
    with pytest.raises(
        CheckpointOutOfOrder, match="step index 0, but the run's next step index is 1"
    ) as refused:
        _checkpoint(lease, 0)
    assert not isinstance(refused.value, LeaseLost)
    assert (refused.value.expected, refused.value.received) == (1, 0)
    assert StepResult.objects.filter(run=run).count() == 1


def test_the_sweeper_requeues_an_expired_run_which_then_resumes_after_its_checkpoint(
    make_scenario: MakeScenario, target: Target
) -> None:
    scenario = make_scenario()
    run = scenario.dispatch()
    # A worker runs and checkpoints the first step, then dies without a trace.
    lease = _take(run)
    run = Run.objects.select_related("environment").get(pk=run.pk)
    artifact = Artifact.from_json(run.artifact.plan)
    resolved = secrets_resolve_for_plan(
        workspace=scenario.workspace, plan=artifact.plan, environment="loopback", run_id=str(run.pk)
    )
    state = run_state_for(run, artifact, resolved, scenario.config)
    first = execute_step(state, 0)
    checkpoint_commit(
        lease, index=0, step_id="login", evidence=first.to_dict(), snapshot=state.snapshot()
    )
    state.client.close()
    _expire(run)

    assert runs_sweep().requeued == [run.pk]
    run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert run.attempts == 2
    # The login step was not sent again: its token came back from the encrypted checkpoint.
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]
    tokens = list(StepResult.objects.filter(run=run).values_list("index", "lease_token"))
    assert tokens == [(0, 1), (1, 2), (2, 2)]


def test_a_live_lease_is_left_alone_by_the_sweeper(make_scenario: MakeScenario) -> None:
    run = make_scenario().dispatch()
    _take(run)
    report = runs_sweep()
    assert run.pk not in report.requeued + report.settled


def test_a_run_over_its_max_attempts_ends_in_error_instead_of_looping(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario(max_attempts=2).dispatch()
    _take(run)
    _expire(run)
    assert run.pk in runs_sweep().requeued
    _take(run)
    _expire(run)
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith("Gave up after 2 attempts: the worker was lost each time")
    assert lease_take(run_id=run.pk) is None


def test_retry_policy_none_ends_an_interrupted_run(make_scenario: MakeScenario) -> None:
    run = make_scenario(retry_policy="none").dispatch()
    _take(run)
    _expire(run)
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert "the retry policy is none" in run.error_message


def test_retry_policy_restart_ends_the_run_and_queues_a_fresh_copy_from_the_first_step(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario(retry_policy="restart").dispatch()
    _checkpoint(_take(run))
    _expire(run)
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()
    fresh = Run.objects.get(retry_of=run)
    assert run.status == RunStatus.ERROR
    assert f"restarted from the first step as run {fresh.pk}" in run.error_message
    assert StepResult.objects.filter(run=run).count() == 1  # the evidence stays
    assert (fresh.status, fresh.next_step, fresh.attempts) == (RunStatus.QUEUED, 0, 1)
    assert fresh.inputs == run.inputs
    assert fresh.artifact_id == run.artifact_id


def test_the_concurrency_limit_keeps_excess_runs_queued_until_a_slot_frees(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(concurrency_limit=1)
    first, second = scenario.dispatch(), scenario.dispatch()
    lease = _take(first)
    assert lease_take(run_id=second.pk) is None
    second.refresh_from_db()
    assert second.status == RunStatus.QUEUED
    run_finish(lease, status=RunStatus.PASSED)
    assert _take(second).token == 1
