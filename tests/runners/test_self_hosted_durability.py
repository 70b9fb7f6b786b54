"""Self-hosted runners against faults of time: paused processes, restarts and server outages.

Real ``reqflo runner start`` processes against gunicorn (``tests/runners/self_hosted.py``: 3 s
leases, 1 s heartbeats). A claim answered to a paused runner is never started by it and does not
use up an attempt; a restarted runner's old process is refused and exits; an outage of the
server longer than the lease is ridden out by the runner, and the run ends with one attempt.
"""

from __future__ import annotations

import signal
import time

import pytest

from reqflo.runners.models import RunnerConfig, SelfHostedRunner
from reqflo.runs.models import Run, RunStatus, StepResult
from tests.runners.self_hosted import (
    LEASE_SECONDS,
    Runners,
    live_app,
    runners,
    wait_finished,
    wait_for,
)
from tests.runners.test_self_hosted_runner import _attempts, _dispatch, _register
from tests.runs.fixtures import MakeScenario, Target

__all__ = ["live_app", "runners"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_claim_answered_to_a_paused_runner_is_never_started_and_uses_no_attempt(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    RunnerConfig.objects.filter(workspace=scenario.workspace).update(max_attempts=1)
    key = _register(scenario, "sleepy")
    # A long poll: the claim is still waiting on the server when the process is paused.
    paused = runners.start(key, env={"REQFLO_RUNNER_POLL_SECONDS": "20"})
    wait_for(
        lambda: SelfHostedRunner.objects.filter(last_seen_at__isnull=False).exists(),
        what="the runner's first claim",
    )
    time.sleep(0.5)
    paused.signal(signal.SIGSTOP)
    run = _dispatch(scenario)
    wait_for(
        lambda: Run.objects.get(pk=run.pk).status == RunStatus.RUNNING,
        what="the waiting claim to take the run",
    )
    rescuer = runners.start(_register(scenario, "rescuer"))

    run = wait_finished(run, timeout=30)
    paused.signal(signal.SIGCONT)  # reads a claim whose lease ran out long ago

    paused.wait_for_log("arrived after its lease ran out by the server's clock; not started")
    assert run.status == RunStatus.PASSED, run.error_message
    assert _attempts(run) == [(1, "undelivered"), (2, "finished")], "max_attempts=1 held"
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]
    assert f"Claimed run {run.pk}" not in paused.log
    assert paused.proc.poll() is None
    rescuer.wait_for_log(f"Run {run.pk} finished: passed")


def test_a_restarted_runners_old_process_is_refused_and_exits(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    key = _register(scenario, "restarted")
    old = runners.start(key)
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    old.signal(signal.SIGSTOP)
    new = runners.start(key)  # the same runner, restarted while the old process hangs
    target.wait_for_hits("/profile", 2, timeout=30)
    target.release("/profile")
    run = wait_finished(run, timeout=30)
    old.signal(signal.SIGCONT)

    assert old.wait(20) == 3
    assert "stale_boot" in old.log
    assert "replaced by a newer process" in old.log
    assert run.status == RunStatus.PASSED
    assert [r.attempt for r in StepResult.objects.filter(run=run)] == [1, 2, 2]
    assert target.count("/echo") == 1, "the old process sent nothing after waking"
    assert new.proc.poll() is None
    new.wait_for_log(f"Run {run.pk} finished: passed")


def test_a_server_outage_longer_than_the_lease_is_ridden_out_not_a_lost_runner(
    make_scenario: MakeScenario, target: Target, runners: Runners
) -> None:
    scenario = make_scenario()
    runner = runners.start(_register(scenario, "steady"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    runners.app.stop()
    target.release("/profile")  # step 2 ends while the server is down: its checkpoint waits
    runner.wait_for_log("checkpoint not acknowledged", timeout=20)
    time.sleep(2 * LEASE_SECONDS)
    runners.app.start()

    run = wait_finished(run, timeout=60)

    assert run.status == RunStatus.PASSED, run.error_message
    assert _attempts(run) == [(1, "finished")], "the outage was not a lost runner"
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]
    assert [r.attempt for r in StepResult.objects.filter(run=run)] == [1, 1, 1]
    runner.wait_for_log(f"Run {run.pk} finished: passed")
