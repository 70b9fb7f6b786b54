"""Transient faults are not crashes: dropped database and broker connections, held row locks.

Real worker processes on the suite's own vhost, this test database only. Each case ends with
nothing lost, duplicated or sent again, every run passed, and no attempt counted as a lost
worker (a dropped connection is an infrastructure fault at worst, and usually not even that).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from reqflo.runners.admission import run_enqueue
from reqflo.runners.models import AttemptEnd, RunAttempt
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus
from tests.chaos.conftest import (
    ChaosTarget,
    MakeWorkspace,
    audit,
    close_broker_connections,
    database_outage,
    hold_connection,
    terminate_app_connections,
    wait_all,
)
from tests.runners.workers import Workers, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _ends(runs: list[Run]) -> list[str]:
    return list(
        RunAttempt.objects.filter(run__in=runs)
        .order_by("run_id", "number")
        .values_list("ended_why", flat=True)
    )


def _all_passed(runs: list[Run]) -> None:
    for run in runs:
        run.refresh_from_db()
        assert (run.status, run.error_message) == (RunStatus.PASSED, ""), run.error_message


def test_app_connections_terminated_every_two_seconds_cost_no_lost_worker(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.delay = 0.4
    space = chaos_workspace(steps=8)
    runs = [space.dispatch() for _ in range(4)]
    chaos_workers.start(concurrency=2)
    chaos_workers.start(concurrency=2)
    terminated = 0
    for _ in range(5):
        time.sleep(2)
        # Counted only while runs are in flight: a cut after the last run ended proves nothing.
        if Run.objects.filter(pk__in=[r.pk for r in runs], status=RunStatus.RUNNING).exists():
            terminated += terminate_app_connections()
    wait_all(runs, timeout=90, tick=runs_sweep)
    report = audit(runs, chaos_target, chaos_workers)
    report.assert_clean()
    assert terminated >= 1  # the workers' connections were really cut mid-run
    _all_passed(runs)
    assert AttemptEnd.WORKER_LOST not in _ends(runs)
    assert "Database error during" in chaos_workers.log_text()  # retried, not crashed


def test_a_database_outage_of_15_seconds_keeps_every_lease(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    # The production ratio: an outage shorter than the lease (30 s by default) costs nothing.
    chaos_workers.env["REQFLO_RUN_LEASE_SECONDS"] = "20"
    chaos_target.delay = 0.3
    space = chaos_workspace(steps=8)
    runs = [space.dispatch() for _ in range(4)]
    chaos_workers.start(concurrency=2)
    chaos_workers.start(concurrency=2)
    wait_for(lambda: chaos_target.count() >= 6, timeout=60, what="the runs to get going")
    database_outage(15)
    wait_all(runs, timeout=90, tick=runs_sweep)
    report = audit(runs, chaos_target, chaos_workers)
    report.assert_clean()
    _all_passed(runs)
    # Every worker rode the outage out on its own lease: one attempt each, finished.
    assert _ends(runs) == [AttemptEnd.FINISHED] * len(runs)


@pytest.mark.parametrize(
    ("retry_seconds", "ends"),
    [
        # The workers keep retrying through the outage and renew their leases once it ends.
        ("40", {AttemptEnd.FINISHED}),
        # The workers give up first and cannot even record why: their attempts end as an
        # infrastructure fault (not counted), and the run goes on in a new one.
        ("3", {AttemptEnd.INFRASTRUCTURE_FAULT, AttemptEnd.FINISHED}),
    ],
)
def test_an_outage_longer_than_the_lease_is_not_a_lost_worker(
    chaos_workspace: MakeWorkspace,
    chaos_target: ChaosTarget,
    chaos_workers: Workers,
    settings: Any,
    retry_seconds: str,
    ends: set[str],
) -> None:
    # Every lease runs out during the outage; with one attempt allowed, a lease taken for a
    # lost worker would end the run "Gave up after 1 attempt: the worker was lost".
    chaos_workers.env.update(
        REQFLO_RUN_LEASE_SECONDS="6",
        REQFLO_RUN_HEARTBEAT_SECONDS="1",
        REQFLO_DB_RETRY_SECONDS=retry_seconds,
    )
    # The sweeper here (as beat) works with the same lease.
    settings.REQFLO_RUN_LEASE_SECONDS, settings.REQFLO_RUN_HEARTBEAT_SECONDS = 6, 1
    chaos_target.delay = 0.3
    space = chaos_workspace(steps=8, max_attempts=1)
    runs = [space.dispatch() for _ in range(3)]
    chaos_workers.start(concurrency=2)
    chaos_workers.start(concurrency=2)
    wait_for(lambda: chaos_target.count() >= 4, timeout=60, what="the runs to get going")
    runs_sweep()  # beat sweeps before the outage too: the sweeper saw the database there
    database_outage(14)
    wait_all(runs, timeout=120, tick=runs_sweep)
    report = audit(runs, chaos_target, chaos_workers)
    report.assert_clean()
    _all_passed(runs)
    assert set(_ends(runs)) == ends
    assert AttemptEnd.WORKER_LOST not in _ends(runs)


def test_broker_connections_closed_every_few_seconds_cost_no_attempt(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.delay = 0.25
    space = chaos_workspace(steps=8)
    runs = [space.dispatch() for _ in range(4)]
    chaos_workers.start(concurrency=2)
    chaos_workers.start(concurrency=2)
    wait_for(lambda: chaos_target.count() >= 4, timeout=60, what="the runs to get going")
    for _ in range(4):
        close_broker_connections()
        time.sleep(1.5)
    wait_all(runs, timeout=90, tick=runs_sweep)
    report = audit(runs, chaos_target, chaos_workers)
    report.assert_clean()
    _all_passed(runs)
    assert _ends(runs) == [AttemptEnd.FINISHED] * len(runs)
    assert [r.attempts for r in Run.objects.filter(pk__in=[r.pk for r in runs])] == [1] * 4


def test_a_held_run_row_lock_does_not_stall_other_workspaces(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    frozen_space, other_space = chaos_workspace(steps=3), chaos_workspace(steps=3)
    chaos_target.block(1)
    frozen = frozen_space.dispatch()
    chaos_workers.start(concurrency=2)
    wait_for(
        lambda: chaos_target.count(run=frozen, step=1) >= 1, timeout=60, what="step 2 to start"
    )
    holder = hold_connection()
    try:
        # A frozen transaction holds the run's row: its worker's next checkpoint waits on it.
        holder.execute("SELECT 1 FROM runs_run WHERE id = %s FOR UPDATE", [frozen.pk])
        chaos_target.release(1)
        for _ in range(3):  # duplicate nudges: claims of the locked run must not wait on it
            run_enqueue(run_id=frozen.pk, config=frozen_space.config)
        others = [other_space.dispatch() for _ in range(3)]
        wait_all(others, timeout=45, tick=runs_sweep)
        _all_passed(others)
        frozen.refresh_from_db()
        assert frozen.status == RunStatus.RUNNING  # still waiting on the lock, untouched
    finally:
        holder.rollback()
        holder.close()
    wait_all([frozen], timeout=30, tick=runs_sweep)
    report = audit([frozen, *others], chaos_target, chaos_workers)
    report.assert_clean()
    _all_passed([frozen])
    assert _ends([frozen]) == [AttemptEnd.FINISHED]
