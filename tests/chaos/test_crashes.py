"""Crashes and stops: kill -9, SIGSTOP past the lease, a death after the last checkpoint, a
poison step under each retry policy, SIGTERM. Real worker processes on the suite's own vhost.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from reqflo.runners.models import AttemptEnd, RunAttempt, WorkerHeartbeat
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus
from tests.chaos.conftest import (
    ChaosTarget,
    MakeWorkspace,
    audit,
    hold_connection,
    wait_all,
)
from tests.runners.workers import LEASE_SECONDS, Workers, finished, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _ends(run: Run) -> list[tuple[int, str]]:
    return list(RunAttempt.objects.filter(run=run).values_list("number", "ended_why"))


def test_repeated_kill_9_of_workers_and_pool_processes_loses_nothing(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.delay = 0.25
    space = chaos_workspace(steps=6, max_attempts=10)
    runs = [space.dispatch() for _ in range(6)]
    victims = [chaos_workers.start(concurrency=2), chaos_workers.start(concurrency=2)]
    for round_ in range(4):
        seen = chaos_target.count()
        wait_for(
            lambda n=seen: chaos_target.count() >= n + 3,  # type: ignore[misc]
            timeout=60,
            what="the runs to make progress",
            tick=runs_sweep,
        )
        victim = victims[round_ % 2]
        if not round_ % 2:
            try:
                chaos_workers.kill_pool_child(victim)
                continue
            except AssertionError:
                pass  # no pool process yet (a loaded machine respawns slowly): kill it all
        chaos_workers.kill(victim)
        victims[round_ % 2] = chaos_workers.start(concurrency=2)
    wait_all(runs, timeout=120, tick=runs_sweep)
    report = audit(runs, chaos_target, chaos_workers)
    report.assert_clean()
    for run in runs:
        run.refresh_from_db()
        assert (run.status, run.error_message) == (RunStatus.PASSED, ""), run.error_message
    lost = RunAttempt.objects.filter(run__in=runs, ended_why=AttemptEnd.WORKER_LOST).count()
    assert lost >= 1  # the kills really interrupted runs


def test_after_kill_9_another_worker_resumes_the_run_when_the_lease_ends_without_a_sweep(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.delay = 0.3
    run = chaos_workspace(steps=60).dispatch()  # long enough to outlast a worker's start
    victim = chaos_workers.start()
    wait_for(lambda: chaos_target.count(run=run, step=2) >= 1, timeout=60, what="step 3")
    chaos_workers.start()
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(stopped_at__isnull=True).count() == 2,
        timeout=60,
        what="the second worker to be ready",
    )
    seen = chaos_target.count(run=run)
    wait_for(lambda: chaos_target.count(run=run) > seen, timeout=30, what="the next step")
    chaos_workers.kill(victim)
    killed = time.time()
    # No sweeper: the broker's redelivery is nudged again for the moment the lease ends.
    wait_for(finished(run), timeout=60, what="the other worker to finish the run")
    resumed = min(r.at for r in chaos_target.since(killed, run))
    assert resumed - killed < LEASE_SECONDS + 2
    run.refresh_from_db()
    assert (run.status, run.error_message) == (RunStatus.PASSED, "")
    audit([run], chaos_target, chaos_workers).assert_clean()
    assert _ends(run) == [(1, AttemptEnd.WORKER_LOST), (2, AttemptEnd.FINISHED)]
    assert "nudged again in" in chaos_workers.log_text()


def test_a_worker_stopped_past_its_lease_between_retries_sends_nothing_when_woken(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    # Step 2 answers 503 twice, then 200; it may retry 4 times, 1.5 s apart.
    chaos_target.fail_first = {1: 2}
    space = chaos_workspace(steps=3, retries={1: (4, 1500)})
    run = space.dispatch()
    zombie = chaos_workers.start()
    wait_for(lambda: chaos_target.count(run=run, step=1) >= 1, timeout=60, what="a first 503")
    chaos_workers.pause(zombie)  # in the delay before its retry
    chaos_workers.start()
    wait_for(finished(run), timeout=60, what="the second worker to finish", tick=runs_sweep)
    woken = time.time()
    chaos_workers.resume(zombie)
    wait_for(
        lambda: f"Stopped working on run {run.pk}" in chaos_workers.log_text(),
        timeout=30,
        what="the woken worker to give up",
    )
    assert chaos_target.since(woken, run) == []  # not one more retry
    run.refresh_from_db()
    assert (run.status, run.error_message) == (RunStatus.PASSED, "")
    report = audit([run], chaos_target, chaos_workers)
    report.assert_clean()
    assert report.stale_writes_rejected >= 1
    assert _ends(run) == [(1, AttemptEnd.WORKER_LOST), (2, AttemptEnd.FINISHED)]


def test_a_worker_lost_after_its_last_checkpoint_leaves_a_run_settled_from_its_results(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    space = chaos_workspace(steps=3)
    run = space.dispatch()
    holder = hold_connection()
    chaos_target.block(0)
    worker = chaos_workers.start()
    try:
        wait_for(lambda: chaos_target.count(run=run, step=0) >= 1, timeout=60, what="step 1")
        # The finish ends the attempt's row first: holding that row stops the worker between
        # its last checkpoint and its finish, where it is then killed.
        holder.execute("SELECT 1 FROM runners_runattempt WHERE run_id = %s FOR UPDATE", [run.pk])
        chaos_target.release(0)
        wait_for(
            lambda: Run.objects.filter(pk=run.pk, next_step=3).exists(),
            timeout=60,
            what="the last checkpoint",
        )
        time.sleep(0.5)
        chaos_workers.kill(worker)
    finally:
        holder.rollback()
        holder.close()
    wait_for(finished(run), timeout=30, what="the sweeper to settle the run", tick=runs_sweep)
    run.refresh_from_db()
    assert (run.status, run.error_message) == (RunStatus.PASSED, "")
    assert [chaos_target.count(run=run, step=i) for i in range(3)] == [1, 1, 1]
    audit([run], chaos_target, chaos_workers).assert_clean()
    assert _ends(run) == [(1, AttemptEnd.WORKER_LOST)]


def test_a_poison_step_under_each_retry_policy_ends_with_a_true_message(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.block(1)  # step 2 never answers: its worker is killed there every time
    resume = chaos_workspace(steps=3, retry_policy="resume", max_attempts=2).dispatch()
    restart = chaos_workspace(steps=3, retry_policy="restart", max_attempts=2).dispatch()
    none = chaos_workspace(steps=3, retry_policy="none", max_attempts=2).dispatch()
    worker = chaos_workers.start(concurrency=3)

    def at_poison(run: Run, times: int) -> None:
        wait_for(
            lambda: chaos_target.count(run=run, step=1) >= times,
            timeout=60,
            what=f"run {run.pk} at the poison step",
            tick=runs_sweep,
        )

    for run in (resume, restart, none):
        at_poison(run, 1)
    chaos_workers.kill_pool_child(worker)
    wait_for(
        lambda: Run.objects.filter(retry_of=restart).exists(),
        timeout=30,
        what="the restart",
        tick=runs_sweep,
    )
    fresh = Run.objects.get(retry_of=restart)
    at_poison(resume, 2)
    at_poison(fresh, 1)
    chaos_workers.kill_pool_child(worker)
    runs = [resume, restart, none, fresh]
    wait_all(runs, timeout=60, tick=runs_sweep)
    for run in runs:
        run.refresh_from_db()
    assert resume.error_message == (
        "Gave up after 2 attempts: the worker was lost each time, last during step 2 of 3. "
        "Check the step's target and the worker's memory and time limits."
    )
    assert restart.error_message == (
        f"The worker was lost during attempt 1; the run restarted from the first step as run "
        f"{fresh.pk} (retry policy: restart)."
    )
    assert fresh.error_message.startswith(
        "Gave up after 2 attempts: the worker was lost each time, last during step 2 of 3."
    )
    assert none.error_message == (
        "The worker was lost during step 2 of 3; the retry policy is none, so the run was not "
        "retried."
    )
    assert {run.status for run in runs} == {RunStatus.ERROR}
    chaos_target.release(1)
    audit(runs, chaos_target, chaos_workers).assert_clean()


def test_sigterm_finishes_the_step_releases_the_run_at_once_and_exits(
    chaos_workspace: MakeWorkspace, chaos_target: ChaosTarget, chaos_workers: Workers
) -> None:
    chaos_target.delay = 0.5
    space = chaos_workspace(steps=20)
    run = space.dispatch()
    stopping = chaos_workers.start()
    wait_for(lambda: chaos_target.count(run=run, step=1) >= 1, timeout=60, what="step 2")
    chaos_workers.start()  # ready to take the run over once it says so
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(stopped_at__isnull=True).count() == 2,
        timeout=60,
        what="the second worker to be ready",
    )
    assert not Run.objects.filter(pk=run.pk, status=RunStatus.PASSED).exists()
    asked = time.monotonic()
    os.kill(stopping.pid, signal.SIGTERM)  # what a supervisor sends: the main process only
    stopping.wait(timeout=20)
    # It finished its step (at most 0.5 s) and checkpointed, then exited promptly.
    assert time.monotonic() - asked < 6  # the whole run would take 9 s more
    # No sweeper here: the released run is picked up without waiting for a lease.
    wait_for(finished(run), timeout=30, what="the other worker to finish the run")
    run.refresh_from_db()
    assert (run.status, run.error_message) == (RunStatus.PASSED, "")
    assert [chaos_target.count(run=run, step=i) for i in range(20)] == [1] * 20
    audit([run], chaos_target, chaos_workers).assert_clean()
    first, second = RunAttempt.objects.filter(run=run).order_by("number")
    assert (first.ended_why, second.ended_why) == (AttemptEnd.RELEASED, AttemptEnd.FINISHED)
    assert first.ended_at is not None
    assert (second.claimed_at - first.ended_at).total_seconds() < LEASE_SECONDS
