"""A runner's claim in flight never re-takes a run that revoking, rotating or stopping it released.

A claim is a long-poll: it was authenticated when it arrived, then looks for runs many times.
Whatever ends the runner's right to claim (a revocation, a rotated token, a newer process of the
runner, the process saying it is stopping) may commit between the claim's check and its taking a
run; revoking and rotating also release the runner's runs, which are then claimable. Each race is
forced deterministically: the claim's candidate search (``_candidates``, which runs after the
claim's own check and before it takes a run) first commits the event, then the real claim goes
on. The claim must take nothing, and the released run must be claimable by another runner at
once. Writes racing with a release are refused the same way (the run's holder is checked under
the lock, not only its token).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from reqflo.runners import protocol
from reqflo.runners.models import RunAttempt, SelfHostedRunner
from reqflo.runners.protocol import Presence, runner_seen
from reqflo.runners.selfhosted import runner_register, runner_revoke, runner_rotate
from reqflo.runs.models import Run, RunStatus, StepResult
from tests.runners.test_self_hosted_protocol import (
    BOOT,
    _beat,
    _call,
    _checkpoint,
    _claim,
    _dispatch,
)
from tests.runs.fixtures import MakeScenario, Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


def _held(scenario: Scenario, name: str = "racer") -> tuple[str, SelfHostedRunner, Run]:
    """A runner whose process (BOOT) holds one delivered run."""
    issued = runner_register(workspace=scenario.workspace, by=scenario.owner, name=name)
    run = _dispatch(scenario)
    job = _claim(issued.key).json()["job"]
    assert job["run_id"] == str(run.pk)
    assert _beat(issued.key, job)["leases"][0]["state"] == "renewed"
    return issued.key, issued.runner, run


def _before_taking(monkeypatch: pytest.MonkeyPatch, event: Callable[[], None]) -> list[int]:
    """Commit ``event`` inside the claim, after its check and before it takes a run (once)."""
    original = protocol._candidates
    fired: list[int] = []

    def candidates(*args: Any, **kwargs: Any) -> list[uuid.UUID]:
        if not fired:
            fired.append(1)
            event()
        return original(*args, **kwargs)

    monkeypatch.setattr(protocol, "_candidates", candidates)
    return fired


def _other_claims_it_at_once(scenario: Scenario, run: Run) -> None:
    other = runner_register(workspace=scenario.workspace, by=scenario.owner, name="other").key
    job = _call(other, "/claim", {"boot_id": uuid.uuid4().hex, "wait_seconds": 0}).json()["job"]
    assert job is not None, "the released run waits for nobody"
    assert job["run_id"] == str(run.pk)
    assert job["next_step"] == 0


def _attempts(run: Run) -> list[tuple[int, str]]:
    return [(a.number, a.ended_why) for a in RunAttempt.objects.filter(run=run).order_by("number")]


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        ("revoke", 401, "token_revoked"),
        ("rotate", 401, "token_unknown"),
    ],
)
def test_a_claim_in_flight_never_re_takes_a_run_its_revocation_or_rotation_released(
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    event: str,
    status: int,
    code: str,
) -> None:
    key, runner, run = _held(scenario)
    change = runner_revoke if event == "revoke" else runner_rotate
    fired = _before_taking(monkeypatch, lambda: change(runner=runner, by=scenario.owner))

    answer = _claim(key)

    assert fired, "the event landed inside the claim"
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    after = Run.objects.get(pk=run.pk)
    assert (after.status, after.lease_holder) == (RunStatus.RUNNING, ""), "released, not re-taken"
    assert _attempts(run) == [(1, "released")]
    monkeypatch.undo()
    _other_claims_it_at_once(scenario, run)


def test_a_claim_in_flight_of_a_replaced_process_takes_nothing(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, runner, _run = _held(scenario)
    queued = _dispatch(scenario)
    fired = _before_taking(
        monkeypatch,
        lambda: runner_seen(SelfHostedRunner.objects.get(pk=runner.pk), Presence(boot_id="newer")),
    )

    answer = _claim(key)

    assert fired
    assert (answer.status_code, answer.json()["code"]) == (409, "stale_boot")
    assert Run.objects.get(pk=queued.pk).status == RunStatus.QUEUED


def test_a_claim_in_flight_takes_nothing_once_its_process_said_it_is_stopping(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, _runner, _run = _held(scenario)
    queued = _dispatch(scenario)

    def stopping() -> None:
        # The stopping heartbeat lands while the claim looks for runs.
        _call(key, "/heartbeat", {"boot_id": BOOT, "leases": [], "stopping": True})

    fired = _before_taking(monkeypatch, stopping)

    answer = _claim(key)

    assert fired
    assert answer.status_code == 200
    assert answer.json()["job"] is None
    assert Run.objects.get(pk=queued.pk).status == RunStatus.QUEUED


def test_a_late_claim_of_a_stopping_process_never_clears_its_stop_nor_takes_its_released_run(
    scenario: Scenario,
) -> None:
    """The graceful-shutdown race: the claim the process sent before it knew arrives after its
    stopping heartbeat, and after the release of its run."""
    key, runner, run = _held(scenario)
    _call(key, "/heartbeat", {"boot_id": BOOT, "leases": [], "stopping": True})
    released = _call(key, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})
    assert released.json() == {"released": True}

    late = _claim(key)

    assert late.status_code == 200
    assert late.json()["job"] is None
    assert SelfHostedRunner.objects.get(pk=runner.pk).stopped_at is not None, "still stopped"
    assert _attempts(run) == [(1, "released")]
    _other_claims_it_at_once(scenario, run)


def test_a_restarted_process_clears_the_stop_of_the_one_before(scenario: Scenario) -> None:
    key, runner, run = _held(scenario)
    _call(key, "/heartbeat", {"boot_id": BOOT, "leases": [], "stopping": True})
    _call(key, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})

    job = _call(key, "/claim", {"boot_id": "restarted", "wait_seconds": 0}).json()["job"]

    assert job is not None
    assert job["run_id"] == str(run.pk)
    assert SelfHostedRunner.objects.get(pk=runner.pk).stopped_at is None


def test_a_checkpoint_racing_with_a_revocation_is_refused_and_the_run_stays_claimable(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint was authenticated before the revocation, which released the run (its
    token unchanged) before the checkpoint's transaction: it must not be stored."""
    key, runner, run = _held(scenario)
    original = protocol._evidence
    fired: list[int] = []

    def evidence(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if not fired:
            fired.append(1)
            runner_revoke(runner=runner, by=scenario.owner)
        return original(*args, **kwargs)

    monkeypatch.setattr(protocol, "_evidence", evidence)
    job = {"run_id": str(run.pk), "lease": {"token": 1, "attempt": 1}}
    job["plan"] = {"steps": [{"id": "login"}]}

    response = _checkpoint(key, job, 0)

    assert fired
    assert (response.status_code, response.json()["code"]) == (409, "lease_lost")
    assert not StepResult.objects.filter(run=run).exists()
    after = Run.objects.get(pk=run.pk)
    assert after.lease_holder == ""
    assert after.lease_expires_at is not None
    monkeypatch.undo()
    _other_claims_it_at_once(scenario, run)


@pytest.mark.parametrize("write", ["complete", "release"])
def test_a_completion_or_release_racing_with_a_revocation_changes_nothing(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    key, runner, run = _held(scenario)
    original = protocol._run_of
    calls: list[int] = []

    def run_of(*args: Any, **kwargs: Any) -> Run:
        found = original(*args, **kwargs)  # read before the revocation: still held
        if not calls:
            runner_revoke(runner=runner, by=scenario.owner)
        calls.append(1)
        return found

    monkeypatch.setattr(protocol, "_run_of", run_of)
    body = {"token": 1, "attempt": 1, "boot_id": BOOT, "outcome": "error", "message": "x"}

    response = _call(key, f"/runs/{run.pk}/{write}", body)

    if write == "complete":
        assert (response.status_code, response.json()["code"]) == (409, "lease_lost")
    else:
        assert response.json() == {"released": False}
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING
    attempt = RunAttempt.objects.get(run=run)
    assert attempt.ended_why == "released"
    assert "was revoked" in attempt.detail, "the revocation's release, not the runner's"
    monkeypatch.undo()
    _other_claims_it_at_once(scenario, run)


def test_out_of_order_checkpoints_under_the_current_lease_say_so_not_lease_lost(
    scenario: Scenario,
) -> None:
    key, runner, run = _held(scenario)
    job = {"run_id": str(run.pk), "lease": {"token": 1, "attempt": 1}}
    job["plan"] = {"steps": [{"id": "login"}, {"id": "profile"}, {"id": "echo"}]}

    ahead = _checkpoint(key, job, 2)
    assert _checkpoint(key, job, 0).status_code == 200
    replay = _checkpoint(key, job, 0)
    released = _call(key, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})
    assert released.json() == {"released": True}
    resumed = _claim(key).json()["job"]  # the same process claims it again: token 2, at step 1
    assert (resumed["lease"]["token"], resumed["next_step"]) == (2, 1)
    behind = _checkpoint(key, resumed, 0)

    assert ahead.status_code == 409
    assert ahead.json()["code"] == "checkpoint_out_of_order"
    assert "step index 2" in ahead.json()["message"]
    assert "next step index is 0" in ahead.json()["message"]
    assert ahead.json()["issues"][0] | {"message": ""} == {
        "path": "index",
        "code": "checkpoint_out_of_order",
        "message": "",
        "expected": 0,
        "received": 2,
    }
    assert replay.json() == {"stored": True, "stop": None}, "a replay is not out of order"
    assert behind.status_code == 409
    assert behind.json()["code"] == "checkpoint_out_of_order"
    assert behind.json()["issues"][0]["expected"] == 1
    assert behind.json()["issues"][0]["received"] == 0
    assert StepResult.objects.filter(run=run).count() == 1
    assert Run.objects.get(pk=run.pk).lease_holder.startswith(runner.holder_prefix), "still held"
