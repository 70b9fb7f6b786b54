"""A self-hosted run stops at its time limit as a Cloud Runner run does, with the same words.

The claim carries the run's deadline (its start plus the workspace's run timeout, by the
database clock). The runner checks it before each step and between a step's retries; the
server marks checkpoints past it (``stop: "timeout"``), refuses one that arrives later than a
step may take after it (409 ``run_timed_out``), and ends a run resumed past it at the claim.
The protocol is called directly first; then real ``reqflo runner start`` processes against a
live server whose heartbeats come every 5 s, so the claim's deadline is what stops the run.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from reqflo.runners.limits import time_limit_before_step, time_limit_during_step
from reqflo.runners.models import RunAttempt
from reqflo.runs.models import Run, RunStatus, StepResult
from tests.live_app import LiveApp
from tests.runners.self_hosted import Runners, self_hosted_app, wait_finished
from tests.runners.test_self_hosted_protocol import (
    BOOT,
    _beat,
    _call,
    _checkpoint,
    _claim,
    _dispatch,
    _register,
)
from tests.runs.fixtures import THREE_STEPS, MakeScenario, Target


def _started(run: Run, seconds_ago: float) -> None:
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=seconds_ago))


def _complete(key: str, run: Run, **body: Any) -> Any:
    return _call(
        key,
        f"/runs/{run.pk}/complete",
        {"token": 1, "attempt": 1, "boot_id": BOOT, "outcome": "timeout", **body},
    )


@pytest.mark.django_db
def test_the_claim_carries_the_runs_deadline_by_the_database_clock(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(run_timeout_seconds=120)
    key = _register(scenario)
    run = _dispatch(scenario)

    deadline = _claim(key).json()["job"]["deadline"]

    started = Run.objects.get(pk=run.pk).started_at
    assert started is not None
    assert deadline["run_timeout_seconds"] == 120
    assert deadline["expires_at"] == (started + timedelta(seconds=120)).isoformat()
    assert 100 < deadline["remaining_seconds"] <= 120


@pytest.mark.django_db
def test_a_checkpoint_past_the_deadline_is_stored_and_says_stop_then_the_run_ends_as_on_cloud(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    _beat(key, job)
    assert _checkpoint(key, job, 0).json() == {"stored": True, "stop": None}
    _started(run, 601)  # the step in progress finished just past the 600 s limit

    late = _checkpoint(key, job, 1)
    ended = _complete(key, run)

    assert late.json() == {"stored": True, "stop": "timeout"}
    assert ended.json() == {"status": "error"}
    run.refresh_from_db()
    assert run.error_message == time_limit_before_step(600, 2, 3)
    assert run.error_message == "The run passed its time limit of 600 s before step 3 of 3."
    assert StepResult.objects.filter(run=run).count() == 2
    assert RunAttempt.objects.get(run=run).ended_why == "timeout"


@pytest.mark.django_db
def test_a_checkpoint_later_than_a_step_may_take_past_the_deadline_is_refused(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    _beat(key, job)
    _started(run, 3600)  # far past the limit plus the longest step (4 x 30 s + 3 x 10 s + 30 s)

    refused = _checkpoint(key, job, 0)
    ended = _complete(key, run, during_step=True)

    assert refused.status_code == 409
    assert refused.json()["code"] == "run_timed_out"
    assert "step 1 was not stored" in refused.json()["message"]
    assert not StepResult.objects.filter(run=run).exists()
    assert ended.json() == {"status": "error"}
    run.refresh_from_db()
    assert run.error_message == time_limit_during_step(600, 0, 3, who="self-hosted runner")
    assert run.error_message.startswith("Run time limit reached during step 1 of 3: the self")


@pytest.mark.django_db
def test_a_run_resumed_past_its_deadline_ends_at_the_claim(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    gone, other = _register(scenario, "gone"), _register(scenario, "other")
    run = _dispatch(scenario)
    job = _claim(gone).json()["job"]
    _beat(gone, job)
    assert _checkpoint(gone, job, 0).status_code == 200
    _started(run, 3600)
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert _call(other, "/claim", {"boot_id": "o", "wait_seconds": 0}).json()["job"] is None

    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message == "The run passed its time limit of 600 s before step 2 of 3."
    assert [
        (a.number, a.ended_why) for a in RunAttempt.objects.filter(run=run).order_by("number")
    ] == [(1, "worker_lost"), (2, "timeout")]


# --- Real runner processes -----------------------------------------------------------------


@pytest.fixture
def slow_beats_app(tmp_path: Path) -> Iterator[LiveApp]:
    """The live server with 30 s leases and 5 s heartbeats: a 2 s run timeout is reached
    long before a heartbeat could say so."""
    app = self_hosted_app(tmp_path / "gunicorn.log", lease_seconds=30, heartbeat_seconds=5)
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def slow_runners(slow_beats_app: LiveApp, tmp_path: Path) -> Iterator[Runners]:
    procs = Runners(app=slow_beats_app, base=tmp_path / "runners")
    try:
        yield procs
    finally:
        procs.stop_all()


def _retrying_journey() -> dict[str, Any]:
    """Login, then a step that keeps failing and retrying every 200 ms, then echo."""
    document = copy.deepcopy(THREE_STEPS)
    failing = document["journey"]["steps"][1]
    failing["request"]["url"] = "{{ env.base_url }}/missing"
    failing["assertions"] = [{"type": "status_code", "expected": 200}]
    failing["retries"] = {"count": 40, "delay_ms": 200}
    return document


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_runner_stops_a_steps_retries_at_the_deadline_and_does_not_store_that_step(
    make_scenario: MakeScenario, target: Target, slow_runners: Runners
) -> None:
    scenario = make_scenario(
        _retrying_journey(),
        # 3 s: room for the claim and step 1 on a loaded machine, still under the 5 s heartbeat.
        run_timeout_seconds=3,
        step_max_retries=40,
        step_max_retry_delay_seconds=1,
    )
    runner = slow_runners.start(_register(scenario, "deadline"))
    run = _dispatch(scenario)

    run = wait_finished(run, timeout=40)

    assert run.status == RunStatus.ERROR
    assert run.error_message == (
        "Run time limit reached during step 2 of 3: the self-hosted runner stopped the run "
        "(the workspace's run timeout is 3 s). The steps finished before it are kept."
    )
    assert [r.index for r in StepResult.objects.filter(run=run)] == [0], "step 2 not stored"
    assert target.count("/echo") == 0
    # At most 3 s of retries every 200 ms; the 5 s heartbeat would have let some 25 through.
    assert 1 <= target.count("/missing") <= 20, target.count("/missing")
    assert RunAttempt.objects.get(run=run).ended_why == "timeout"
    runner.wait_for_log(f"Run {run.pk} timed out during its step in progress")
    assert "its deadline from the claim" in runner.log
    assert runner.proc.poll() is None, "the runner carries on"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_runner_stops_before_the_next_step_once_the_deadline_passed(
    make_scenario: MakeScenario, target: Target, slow_runners: Runners
) -> None:
    scenario = make_scenario(run_timeout_seconds=2)
    runner = slow_runners.start(_register(scenario, "deadline"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)
    # Step 2 is held past the 2 s limit, then finishes: it is stored, step 3 is never sent.
    time.sleep(3)
    target.release("/profile")

    run = wait_finished(run, timeout=30)

    assert run.status == RunStatus.ERROR
    assert run.error_message == "The run passed its time limit of 2 s before step 3 of 3."
    assert [r.index for r in StepResult.objects.filter(run=run)] == [0, 1]
    assert target.count("/echo") == 0
    runner.wait_for_log(f"Run {run.pk} timed out before its next step")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_runner_ends_a_run_whose_stored_progress_is_not_its_own_saying_so(
    make_scenario: MakeScenario, target: Target, slow_runners: Runners
) -> None:
    """Not a lost lease: the run is still the runner's, but the server's next step moved on
    (here by hand, standing for any disagreement); the runner ends the run with the reason."""
    scenario = make_scenario()
    runner = slow_runners.start(_register(scenario, "confused"))
    target.block("/profile")
    run = _dispatch(scenario)
    target.wait_for_hits("/profile", 1, timeout=20)  # step 1 stored, step 2 on the wire
    Run.objects.filter(pk=run.pk).update(next_step=2)
    target.release("/profile")

    run = wait_finished(run, timeout=30)

    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith(
        "The self-hosted runner's steps did not follow the stored ones: checkpoint refused "
        "(checkpoint_out_of_order)"
    )
    assert "step index 1, but the run's next step index is 2" in run.error_message
    assert target.count("/echo") == 0
    assert RunAttempt.objects.get(run=run).ended_why == "finished"
    assert "lease_lost" not in runner.log
    assert runner.proc.poll() is None
