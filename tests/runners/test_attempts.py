"""Attempt records and what counts against max attempts, deterministically in-process.

The same rules under real worker processes and real faults are in ``tests/chaos/``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.runners.leases import (
    Lease,
    WorkerStopping,
    checkpoint_commit,
    lease_release,
    lease_take,
    run_finish,
)
from reqflo.runners.models import AttemptEnd, RunAttempt, WorkerHeartbeat
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus
from tests.runs.fixtures import MakeScenario

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


def _expire(run: Run) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
            [run.pk],
        )


def _take(run: Run, holder: str = "w1@host pid 7") -> Lease:
    lease = lease_take(run_id=run.pk, holder=holder)
    assert lease is not None
    return lease


def _checkpoint(lease: Lease, index: int, status: str = "passed") -> None:
    checkpoint_commit(
        lease, index=index, step_id=f"s{index}", evidence={"status": status}, snapshot={}
    )


def _ends(run: Run) -> list[tuple[int, str]]:
    return list(RunAttempt.objects.filter(run=run).values_list("number", "ended_why"))


def test_each_claim_is_recorded_with_its_holder_token_and_how_it_ended(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    first = _take(run)
    _expire(run)
    assert run.pk in runs_sweep().requeued
    second = _take(run, holder="w2@host pid 8")
    run_finish(second, status=RunStatus.PASSED)
    rows = list(
        RunAttempt.objects.filter(run=run).values_list(
            "number", "lease_token", "holder", "ended_why"
        )
    )
    assert rows == [
        (1, first.token, "w1@host pid 7", AttemptEnd.WORKER_LOST),
        (2, second.token, "w2@host pid 8", AttemptEnd.FINISHED),
    ]
    assert all(
        a.ended_at and a.ended_at >= a.claimed_at for a in RunAttempt.objects.filter(run=run)
    )


def test_the_run_shows_the_hostname_alone_while_the_attempt_names_the_pool_process(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    _take(run, holder="w1@host pid 7")
    run.refresh_from_db()
    assert run.lease_holder == "w1@host"


def test_infrastructure_faults_and_releases_never_exhaust_max_attempts(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario(max_attempts=1).dispatch()
    for _ in range(3):
        lease = _take(run)
        assert lease_release(lease, why=AttemptEnd.INFRASTRUCTURE_FAULT, detail="db gone")
        _expire(run)  # past the backoff
        assert run.pk in runs_sweep().requeued
    lease = _take(run)
    assert lease_release(lease, why=AttemptEnd.RELEASED)
    # A release frees the run at once: no sweep, no waiting for the lease.
    lease = _take(run)
    _expire(run)
    assert run.pk in runs_sweep().settled  # the first lost worker hits the cap of 1
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith(
        "Gave up after 1 attempt whose worker was lost (the limit is 1; 4 other attempts ended "
        "by an infrastructure fault or a stopping worker and did not count), last during step 1"
    )
    assert _ends(run) == [
        (1, AttemptEnd.INFRASTRUCTURE_FAULT),
        (2, AttemptEnd.INFRASTRUCTURE_FAULT),
        (3, AttemptEnd.INFRASTRUCTURE_FAULT),
        (4, AttemptEnd.RELEASED),
        (5, AttemptEnd.WORKER_LOST),
    ]


def test_an_infrastructure_fault_backs_off_before_the_run_is_claimed_again(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    lease = _take(run)
    lease_release(lease, why=AttemptEnd.INFRASTRUCTURE_FAULT, detail="db gone")
    assert lease_take(run_id=run.pk) is None  # still inside the 2 s backoff
    assert run.pk not in runs_sweep().requeued


def test_too_many_infrastructure_faults_end_the_run_saying_so(
    make_scenario: MakeScenario, settings: Settings
) -> None:
    settings.REQFLO_RUN_MAX_INFRASTRUCTURE_FAULTS = 2
    run = make_scenario(max_attempts=1).dispatch()
    for _ in range(2):
        lease_release(_take(run), why=AttemptEnd.INFRASTRUCTURE_FAULT, detail="db gone")
        _expire(run)
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith("Gave up after 2 infrastructure faults")
    assert "the worker was lost" not in run.error_message


def test_a_run_whose_every_step_was_stored_is_settled_from_its_results(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()  # three steps
    lease = _take(run)
    for index, status in enumerate(("passed", "failed", "passed")):
        _checkpoint(lease, index, status)
    _expire(run)  # the worker died before finishing
    assert run.pk in runs_sweep().settled
    run.refresh_from_db()
    assert (run.status, run.error_message) == (RunStatus.FAILED, "")
    assert _ends(run) == [(1, AttemptEnd.WORKER_LOST)]


def test_a_checkpoint_of_a_stopping_worker_asks_it_to_release_the_run(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    lease = _take(run, holder="w1@host pid 7")
    WorkerHeartbeat.objects.create(
        hostname="w1@host",
        started_at="2026-01-01T00:00Z",
        last_seen_at="2026-01-01T00:00Z",
        draining_since="2026-01-01T00:00Z",
    )
    with pytest.raises(WorkerStopping):
        _checkpoint(lease, 0)
    run.refresh_from_db()
    assert run.next_step == 1  # stored before it asked
    assert lease_release(lease, why=AttemptEnd.RELEASED)
    assert _take(run, holder="w2@host pid 9").attempt == 2
    assert _ends(run) == [(1, AttemptEnd.RELEASED), (2, "")]


def test_the_last_step_of_a_stopping_worker_finishes_the_run_instead(
    make_scenario: MakeScenario,
) -> None:
    run = make_scenario().dispatch()
    lease = _take(run, holder="w1@host pid 7")
    _checkpoint(lease, 0)
    _checkpoint(lease, 1)
    WorkerHeartbeat.objects.create(
        hostname="w1@host",
        started_at="2026-01-01T00:00Z",
        last_seen_at="2026-01-01T00:00Z",
        draining_since="2026-01-01T00:00Z",
    )
    _checkpoint(lease, 2)  # no WorkerStopping: nothing is left to hand over
    run_finish(lease, status=RunStatus.PASSED)
    assert _ends(run) == [(1, AttemptEnd.FINISHED)]
