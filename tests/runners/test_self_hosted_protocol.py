"""The runner protocol's endpoints, called directly: access by token state, fencing, idempotency.

Token states: valid, revoked, rotated (the old token), another workspace's runner, missing,
malformed, and a personal API token (never a runner's). Run endpoints of another workspace's
runner answer 404; a stale lease token 409 ``lease_lost``; every write replayed gives the same
answer. The processes themselves are tested in ``test_self_hosted_runner.py``.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from reqflo.engine import numbers
from reqflo.engine.runner_labels import LABEL
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.labels import clean_labels
from reqflo.runners.leases import attempt_counts, delivery_seconds, lease_take
from reqflo.runners.models import (
    SERVER_MARK,
    RunAttempt,
    RunnerConfig,
    SelfHostedRunner,
    SweepMark,
)
from reqflo.runners.selfhosted import runner_register, runner_revoke, runner_rotate
from reqflo.runners.services import run_cancel, run_dispatch
from reqflo.runs.models import Run, RunStatus, StepResult, Trigger
from tests.runs.fixtures import API_KEY, MakeScenario, Scenario

pytestmark = pytest.mark.django_db

BOOT = uuid.uuid4().hex


def _call(key: str | None, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return Client().post(
        f"/api/v1/runner{path}",
        json.dumps(body if body is not None else {}),
        content_type="application/json",
        headers=headers,
    )


def _claim(key: str, **extra: Any) -> Any:
    return _call(key, "/claim", {"boot_id": BOOT, "wait_seconds": 0, **extra})


def _dispatch(scenario: Scenario, **route: Any) -> Run:
    route.setdefault("runner", "self_hosted")
    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        **route,
    ).run


def _register(scenario: Scenario, name: str = "r1", **fields: Any) -> str:
    return runner_register(workspace=scenario.workspace, by=scenario.owner, name=name, **fields).key


def _evidence(index: int, step_id: str) -> dict[str, Any]:
    return {
        "index": index,
        "step_id": step_id,
        "name": step_id,
        "status": "passed",
        "attempts": [],
        "duration_ms": 1.0,
        "logs": [],
    }


def _checkpoint(key: str, job: dict[str, Any], index: int, token: int | None = None) -> Any:
    step_id = job["plan"]["steps"][index]["id"]
    return _call(
        key,
        f"/runs/{job['run_id']}/checkpoint",
        {
            "token": job["lease"]["token"] if token is None else token,
            "boot_id": BOOT,
            "attempt": job["lease"]["attempt"],
            "index": index,
            "evidence": _evidence(index, step_id),
            "snapshot": json.dumps({"run_id": job["run_id"], "contexts": {}}),
        },
    )


def _beat(key: str, job: dict[str, Any], boot: str = BOOT) -> Any:
    """A heartbeat naming the job's lease: the runner has it (the claim is delivered)."""
    lease = {"run_id": job["run_id"], "token": job["lease"]["token"], "attempt": 1}
    return _call(key, "/heartbeat", {"boot_id": boot, "leases": [lease]}).json()


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


def test_a_claim_carries_the_lease_plan_inputs_secrets_and_no_checkpoint_yet(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)

    job = _claim(key).json()["job"]

    assert job["run_id"] == str(run.pk)
    assert job["lease"]["token"] == 1
    assert job["lease"]["attempt"] == 1
    assert job["lease"]["expires_at"]
    assert job["secrets"] == {"api_key": API_KEY}
    assert API_KEY in job["redact"]
    assert job["checkpoint"] is None
    assert [s["id"] for s in job["plan"]["steps"]] == ["login", "profile", "echo"]
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert _claim(key).json()["job"] is None, "one run, claimed once"


def test_self_hosted_runs_are_never_sent_to_celery_nor_taken_by_a_worker(
    scenario: Scenario,
) -> None:
    run = _dispatch(scenario)

    assert runs_enqueue_waiting(workspace_id=scenario.workspace.pk).nudged == []
    assert lease_take(run_id=run.pk, holder="celery@host") is None
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED


def test_a_runner_never_claims_a_cloud_run(scenario: Scenario) -> None:
    key = _register(scenario)
    _dispatch(scenario, runner="cloud")

    assert _claim(key).json()["job"] is None


def test_labels_route_runs_to_runners_with_every_label(scenario: Scenario) -> None:
    plain = _register(scenario, "plain")
    vpn = _register(scenario, "vpn", labels=["vpn"])
    run = _dispatch(scenario, runner_labels=["vpn", "eu"])

    assert _claim(vpn).json()["job"] is None, "eu is missing"
    assert _claim(plain, labels=["vpn", "eu"]).json()["job"]["run_id"] == str(run.pk)


def test_the_workspace_default_routes_runs_to_self_hosted_runners(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(default_runner="self_hosted", default_runner_labels=["vpn"])
    run = scenario.dispatch()

    assert run.runner_kind == "self_hosted"
    assert run.runner_labels == ["vpn"]


def test_a_runner_claims_only_while_it_has_a_free_slot(scenario: Scenario) -> None:
    key = _register(scenario, capacity=1)
    _dispatch(scenario)
    _dispatch(scenario)

    assert _claim(key).json()["job"] is not None
    assert _claim(key).json()["job"] is None, "capacity 1 is full"


def test_checkpoints_are_fenced_and_idempotent_and_completion_comes_from_stored_results(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]

    first = _checkpoint(key, job, 0)
    again = _checkpoint(key, job, 0)
    stale = _checkpoint(key, job, 1, token=job["lease"]["token"] + 7)
    early = _call(
        key,
        f"/runs/{run.pk}/complete",
        {"token": job["lease"]["token"], "attempt": 1, "boot_id": BOOT, "outcome": "finished"},
    )

    assert first.status_code == 200, first.json()
    assert again.json() == first.json() == {"stored": True, "stop": None}
    assert stale.status_code == 409
    assert stale.json()["code"] == "lease_lost"
    assert early.status_code == 409
    assert early.json()["code"] == "steps_missing"
    assert StepResult.objects.filter(run=run).count() == 1
    for index in (1, 2):
        assert _checkpoint(key, job, index).status_code == 200
    body = {"token": job["lease"]["token"], "attempt": 1, "boot_id": BOOT, "outcome": "finished"}
    done = _call(key, f"/runs/{run.pk}/complete", body)
    replay = _call(key, f"/runs/{run.pk}/complete", body)
    assert done.json() == replay.json() == {"status": "passed"}
    assert RunAttempt.objects.get(run=run).ended_why == "finished"


def test_a_bad_evidence_shape_is_a_400_naming_the_field(scenario: Scenario) -> None:
    key = _register(scenario)
    job = _claim(key).json()["job"] if _dispatch(scenario) else None
    assert job is not None

    response = _call(
        key,
        f"/runs/{job['run_id']}/checkpoint",
        {
            "token": 1,
            "attempt": 1,
            "boot_id": BOOT,
            "index": 0,
            "evidence": {"nope": 1},
            "snapshot": "{}",
        },
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("evidence:")


def test_an_unknown_outcome_is_a_400_naming_it_whatever_the_lease(scenario: Scenario) -> None:
    key = _register(scenario)
    job = _claim(key).json()["job"] if _dispatch(scenario) else None
    assert job is not None
    for token in (job["lease"]["token"], job["lease"]["token"] + 7):  # current, then stale
        body = {"token": token, "attempt": 1, "boot_id": BOOT, "outcome": "bogus"}
        response = _call(key, f"/runs/{job['run_id']}/complete", body)
        assert response.status_code == 400
        assert "outcome" in response.json()["message"]


def test_the_heartbeat_renews_held_leases_and_answers_cancelled_and_lost(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    kept, cancelled = _dispatch(scenario), _dispatch(scenario)
    jobs = [_claim(key).json()["job"], _claim(key).json()["job"]]
    run_cancel(run=cancelled, by=scenario.owner)
    leases = [{"run_id": j["run_id"], "token": j["lease"]["token"], "attempt": 1} for j in jobs]
    leases.append({"run_id": str(kept.pk), "token": 99, "attempt": 1})

    answer = _call(key, "/heartbeat", {"boot_id": BOOT, "leases": leases}).json()

    assert [a["state"] for a in answer["leases"]] == ["renewed", "cancelled", "lost"]


def test_another_boot_of_the_runner_cannot_renew_or_claim_past_the_first(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    _dispatch(scenario)
    job = _claim(key).json()["job"]
    lease = {"run_id": job["run_id"], "token": job["lease"]["token"], "attempt": 1}

    answer = _call(key, "/heartbeat", {"boot_id": "other-boot", "leases": [lease]}).json()

    assert answer["leases"][0]["state"] == "lost"


def test_release_frees_the_run_for_an_immediate_claim(scenario: Scenario) -> None:
    first, second = _register(scenario, "a"), _register(scenario, "b")
    run = _dispatch(scenario)
    job = _claim(first).json()["job"]
    assert _checkpoint(first, job, 0).status_code == 200

    released = _call(first, f"/runs/{run.pk}/release", {"token": 1, "attempt": 1, "boot_id": BOOT})
    resumed = _claim(second).json()["job"]

    assert released.json() == {"released": True}
    assert resumed["run_id"] == str(run.pk)
    assert resumed["next_step"] == 1
    assert resumed["lease"]["token"] == 2
    assert numbers.loads(resumed["checkpoint"]["snapshot"])["run_id"] == str(run.pk)
    assert RunAttempt.objects.get(run=run, number=1).ended_why == "released"


# --- Access matrix: every endpoint, every token state ---------------------------------------


def _endpoints(run_id: str) -> list[tuple[str, dict[str, Any]]]:
    lease = {"token": 1, "attempt": 1, "boot_id": BOOT}
    return [
        ("/claim", {"boot_id": BOOT, "wait_seconds": 0}),
        ("/heartbeat", {"boot_id": BOOT, "leases": []}),
        (
            f"/runs/{run_id}/checkpoint",
            {**lease, "index": 0, "evidence": _evidence(0, "login"), "snapshot": "{}"},
        ),
        (f"/runs/{run_id}/complete", {**lease, "outcome": "finished"}),
        (f"/runs/{run_id}/release", lease),
    ]


def test_the_matrix_lists_every_endpoint_of_the_protocol() -> None:
    from reqflo.api.api import api

    paths = [p for p in api.get_openapi_schema()["paths"] if "/runner/" in p]
    assert len(paths) == len(_endpoints("x"))


@pytest.fixture
def tokens(scenario: Scenario, other_workspace: Workspace, outsider: User) -> dict[str, Any]:
    revoked = runner_register(workspace=scenario.workspace, by=scenario.owner, name="gone")
    runner_revoke(runner=revoked.runner, by=scenario.owner)
    rotated = runner_register(workspace=scenario.workspace, by=scenario.owner, name="turned")
    runner_rotate(runner=rotated.runner, by=scenario.owner)
    return {
        "valid": _register(scenario, "valid"),
        "revoked": revoked.key,
        "rotated-old": rotated.key,
        "other-workspace": runner_register(
            workspace=other_workspace, by=outsider, name="theirs"
        ).key,
        "missing": None,
        "malformed": "rqr_short",
        "api-token": api_token_create(
            user=scenario.owner, workspace=scenario.workspace, name="ci"
        ).key,
    }


EXPECTED = {
    "revoked": (401, "token_revoked"),
    "rotated-old": (401, "token_unknown"),
    "missing": (401, "token_missing"),
    "malformed": (401, "token_malformed"),
    "api-token": (401, "token_malformed"),
}


@pytest.mark.parametrize("state", [*EXPECTED, "other-workspace", "valid"])
@pytest.mark.parametrize("index", range(5))
def test_protocol_access_per_token_state(
    scenario: Scenario, tokens: dict[str, Any], state: str, index: int
) -> None:
    run = _dispatch(scenario)
    path, body = _endpoints(str(run.pk))[index]

    response = _call(tokens[state], path, body)

    if state in EXPECTED:
        status, code = EXPECTED[state]
        assert (response.status_code, response.json()["code"]) == (status, code)
    elif state == "other-workspace":
        if path in ("/claim", "/heartbeat"):
            assert response.status_code == 200
            answer = response.json()
            assert answer.get("job") is None, "sees nothing of Acme"
            assert not answer.get("leases")
        else:
            assert response.status_code == 404
    else:
        assert response.status_code in (200, 409), response.json()
    assert Run.objects.get(pk=run.pk).status in (RunStatus.QUEUED, RunStatus.RUNNING)


def test_a_runner_token_is_not_an_api_token(tokens: dict[str, Any]) -> None:
    response = Client().get("/api/v1/runs", headers={"Authorization": f"Bearer {tokens['valid']}"})

    assert response.status_code == 401


@given(st.lists(st.text(max_size=50), max_size=30))
@settings(max_examples=200, deadline=None)
def test_labels_are_cleaned_or_refused_with_a_message_naming_the_field(raw: list[str]) -> None:
    try:
        labels = clean_labels(raw)
    except ValidationError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert list(refused.message_dict) == ["labels"]
        return
    assert labels == sorted(set(labels))
    assert all(LABEL.match(label) for label in labels)


def test_a_new_boot_is_the_runners_last_restart(scenario: Scenario) -> None:
    issued = runner_register(workspace=scenario.workspace, by=scenario.owner, name="boots")
    _call(issued.key, "/heartbeat", {"boot_id": "first", "leases": []})
    first = SelfHostedRunner.objects.get(pk=issued.runner.pk).booted_at
    _call(issued.key, "/heartbeat", {"boot_id": "first", "leases": []})
    same = SelfHostedRunner.objects.get(pk=issued.runner.pk).booted_at
    _call(issued.key, "/heartbeat", {"boot_id": "second", "leases": []})
    runner = SelfHostedRunner.objects.get(pk=issued.runner.pk)

    assert first == same
    assert runner.booted_at is not None
    assert first is not None
    assert runner.booted_at > first
    assert runner.boot_id == "second"


def test_runs_for_other_labels_never_hide_a_runners_own(scenario: Scenario) -> None:
    key = _register(scenario, "plain")
    for _ in range(60):  # more than one claim looks at
        _dispatch(scenario, runner_labels=["gpu"])
    mine = _dispatch(scenario)

    assert _claim(key).json()["job"]["run_id"] == str(mine.pk)


def test_the_heartbeat_answers_timeout_past_the_run_timeout_and_the_run_ends_saying_so(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    lease = {"run_id": job["run_id"], "token": 1, "attempt": 1}

    answer = _call(key, "/heartbeat", {"boot_id": BOOT, "leases": [lease]}).json()
    ended = _call(
        key,
        f"/runs/{run.pk}/complete",
        {"token": 1, "attempt": 1, "boot_id": BOOT, "outcome": "timeout"},
    )

    assert answer["leases"][0]["state"] == "timeout"
    assert ended.json() == {"status": "error"}
    run.refresh_from_db()
    # The Cloud Runner's words for the same stop.
    assert run.error_message == "The run passed its time limit of 600 s before step 1 of 3."
    assert RunAttempt.objects.get(run=run).ended_why == "timeout"


def test_a_run_cancelled_while_its_runner_was_gone_ends_at_the_next_claim(
    scenario: Scenario,
) -> None:
    first, second = _register(scenario, "gone"), _register(scenario, "next")
    run = _dispatch(scenario)
    _claim(first)
    run_cancel(run=run, by=scenario.owner)
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert _claim(second).json()["job"] is None
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.error_message.startswith("Cancelled by owner@acme.test before step 1 of 3")


def test_the_sweeper_settles_a_dead_runners_run_without_sending_it_to_celery(
    scenario: Scenario,
) -> None:
    from reqflo.runners.sweeper import runs_sweep

    dead, alive = _register(scenario, "dead"), _register(scenario, "alive")
    run = _dispatch(scenario)
    _beat(dead, _claim(dead).json()["job"])  # it had the run, then died
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    report = runs_sweep()

    assert report.requeued == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.lease_holder, run.nudged_at) == (RunStatus.RUNNING, "", None)
    assert RunAttempt.objects.get(run=run, number=1).ended_why == "worker_lost"
    assert _claim(alive).json()["job"]["lease"]["attempt"] == 2


def test_idle_runners_never_take_every_server_thread(scenario: Scenario, settings: Any) -> None:
    settings.REQFLO_RUNNER_LONG_POLLS = 0
    key = _register(scenario)

    busy = _claim(key, wait_seconds=5)
    _dispatch(scenario)
    found = _claim(key, wait_seconds=5)

    assert busy.json() == {"job": None, "retry_after": 2.0, "slots": 4, "capacity": 4}, (
        "answered at once, not held"
    )
    assert found.json()["job"] is not None, "a run there is claimed without waiting"


# --- Claims never taken up, replaced processes, the server's own outages ---------------------


def _expire(run: Run, seconds_ago: float = 1) -> None:
    Run.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_a_claim_its_runner_never_took_up_ends_undelivered_and_does_not_count(
    scenario: Scenario,
) -> None:
    RunnerConfig.objects.filter(workspace=scenario.workspace).update(
        max_attempts=1, retry_policy="none"
    )
    gone, other = _register(scenario, "gone"), _register(scenario, "other")
    run = _dispatch(scenario)
    job = _claim(gone).json()["job"]
    assert 0 < job["lease"]["remaining_seconds"] <= delivery_seconds(), "a short lease at first"
    _expire(run)

    resumed = _claim(other).json()["job"]

    assert resumed["lease"]["attempt"] == 2, "the undelivered claim did not use up max_attempts=1"
    first = RunAttempt.objects.get(run=run, number=1)
    assert (first.ended_why, first.delivered) == ("undelivered", False)
    counts = attempt_counts(Run.objects.get(pk=run.pk))
    assert (counts.total, counts.lost) == (2, 1), "only the attempt in progress counts"
    _beat(other, resumed, boot=BOOT)
    assert RunAttempt.objects.get(run=run, number=2).delivered


def test_a_heartbeat_naming_the_claim_delivers_it_and_renews_the_whole_lease(
    scenario: Scenario, settings: Any
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]

    assert _beat(key, job)["leases"][0]["state"] == "renewed"

    assert RunAttempt.objects.get(run=run).delivered
    left = Run.objects.get(pk=run.pk).lease_expires_at - timezone.now()
    assert left > timedelta(seconds=settings.REQFLO_RUN_LEASE_SECONDS - 5)


def test_a_replaced_process_of_a_runner_is_refused_on_every_call_and_stores_nothing(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    _beat(key, job)
    _call(key, "/heartbeat", {"boot_id": "restarted", "leases": []})  # a new process

    for path, body in _endpoints(str(run.pk)):
        if "token" in body:
            body = {**body, "token": job["lease"]["token"]}
        response = _call(key, path, body)
        assert (response.status_code, response.json()["code"]) == (409, "stale_boot"), path
        assert "replaced by a newer process" in response.json()["message"]
    assert not StepResult.objects.filter(run=run).exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert SelfHostedRunner.objects.get(boot_id="restarted").retired_boot_ids == [BOOT]


def test_a_write_from_another_process_of_the_runner_is_refused_as_lease_lost(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key, boot_id="first").json()["job"]

    response = _checkpoint(key, job, 0)  # BOOT: a second process with the same token

    assert (response.status_code, response.json()["code"]) == (409, "lease_lost")
    assert not StepResult.objects.filter(run=run).exists()


def _server_mark(*, last_ago: float, since_ago: float) -> None:
    now = timezone.now()
    SweepMark.objects.update_or_create(
        pk=SERVER_MARK,
        defaults={
            "last_swept_at": now - timedelta(seconds=last_ago),
            "reachable_since": now - timedelta(seconds=since_ago),
        },
    )


def test_self_hosted_leases_that_ran_out_in_the_servers_outage_are_not_lost_workers(
    scenario: Scenario, settings: Any
) -> None:
    from reqflo.runners.sweeper import runs_sweep

    lease = settings.REQFLO_RUN_LEASE_SECONDS
    holder, other = _register(scenario, "holder"), _register(scenario, "other")
    run = _dispatch(scenario)
    _beat(holder, _claim(holder).json()["job"])
    _expire(run, seconds_ago=lease)
    _server_mark(last_ago=10 * lease, since_ago=100 * lease)  # the server has been down

    assert runs_sweep().requeued == []
    assert _claim(other, boot_id="o1").json()["job"] is None
    _server_mark(last_ago=0, since_ago=1)  # back a second ago: its runners get a lease
    assert runs_sweep().requeued == []
    assert _claim(other, boot_id="o1").json()["job"] is None
    _server_mark(last_ago=0, since_ago=lease + 1)  # back for a lease: settled, not as lost

    assert runs_sweep().requeued == [run.pk]
    attempt = RunAttempt.objects.get(run=run, number=1)
    assert attempt.ended_why == "infrastructure_fault"
    assert _claim(other, boot_id="o1").json()["job"]["lease"]["attempt"] == 2


def test_a_runner_that_rode_out_the_servers_outage_renews_its_expired_lease(
    scenario: Scenario,
) -> None:
    key = _register(scenario)
    run = _dispatch(scenario)
    job = _claim(key).json()["job"]
    _beat(key, job)
    _expire(run, seconds_ago=60)
    _server_mark(last_ago=0, since_ago=1)

    assert _beat(key, job)["leases"][0]["state"] == "renewed"
    assert _checkpoint(key, job, 0).status_code == 200


@pytest.mark.parametrize("capacity", [0, -1, 257, 2**31, 2**63])
def test_a_capacity_out_of_range_is_a_400_on_claim_and_heartbeat(
    scenario: Scenario, capacity: int
) -> None:
    """A runner's own --capacity goes through the claim and every heartbeat: past the column's
    range it was a 500 with a traceback (integer out of range)."""
    key = _register(scenario)
    for path in ("/claim", "/heartbeat"):
        body: dict[str, Any] = {"boot_id": BOOT, "capacity": capacity, "wait_seconds": 0}
        if path == "/heartbeat":
            body = {"boot_id": BOOT, "capacity": capacity, "leases": []}
        response = _call(key, path, body)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["message"].startswith("capacity: 1 to 256")
