"""Executing a cloud run in-process: evidence, secrets, egress and run timeouts.

These call ``run_execute`` directly, as the task does, so they need no broker; the worker
process tests are in ``test_worker_runs.py``.
"""

from __future__ import annotations

import copy
import json

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from reqflo.runners.execution import run_execute
from reqflo.runners.leases import checkpoint_commit, lease_take
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.runs.selectors import run_step_evidence
from reqflo.secrets.crypto import current_cipher
from reqflo.secrets.models import Secret
from tests.engine.exactness_target import Targets, targets_fixture  # noqa: F401
from tests.runs.fixtures import API_KEY, ONE_SLOW_STEP, TOKEN, MakeScenario, Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    # In-process steps take milliseconds; a heartbeat thread would only contend for row locks
    # held by the test's own transaction.
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


def _dump(table: str, run: Run) -> str:
    column = "id" if table == "runs_run" else "run_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT row_to_json(t)::text FROM {table} t WHERE {column} = %s",
            [run.pk],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_three_step_run_passes_and_stores_each_steps_evidence(
    make_scenario: MakeScenario, target: Target
) -> None:
    run = make_scenario().dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert (run.next_step, run.attempts, run.lease_expires_at) == (3, 1, None)
    assert run.finished_at is not None
    assert run.started_at is not None
    steps = run_step_evidence(run=run)
    assert [(s.step_id, s.status) for s in steps] == [
        ("login", "passed"),
        ("profile", "passed"),
        ("echo", "passed"),
    ]
    profile = steps[1].attempts[0]
    assert profile.response is not None
    assert profile.response.status == 200
    assert [target.count(p) for p in ("/login", "/profile", "/echo")] == [1, 1, 1]


def test_secret_values_used_by_a_run_never_reach_the_run_tables(
    make_scenario: MakeScenario, target: Target
) -> None:
    run = make_scenario().dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert target.seen_keys[0] == API_KEY  # the run really sent the secret
    for table in ("runs_run", "runs_stepresult"):
        dump = _dump(table, run)
        assert dump, table
        assert API_KEY not in dump, f"{table} holds the secret"
        assert TOKEN not in dump, f"{table} holds the secret output"
    # The checkpoint keeps the raw token for resuming, sealed under the store key.
    sealed = StepResult.objects.get(run=run, index=0).checkpoint
    assert TOKEN in current_cipher().decrypt(sealed)
    echoed = run_step_evidence(run=run)[2].attempts[0]
    assert echoed.request is not None
    assert API_KEY not in json.dumps(echoed.request.to_dict())


def test_a_secret_deleted_after_dispatch_ends_the_run_in_error_before_any_request(
    make_scenario: MakeScenario, target: Target
) -> None:
    # Dispatch refuses a run whose secret is missing (the Run check); one deleted while the
    # run waits is found missing by the worker.
    run = make_scenario().dispatch()
    Secret.objects.filter(workspace=run.workspace, name="api_key").delete()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert "Missing secret api_key" in run.error_message
    assert target.hits == []
    assert not StepResult.objects.filter(run=run).exists()


def test_egress_policy_refuses_loopback_targets_that_are_not_allowed(
    make_scenario: MakeScenario, target: Target, settings: Settings
) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = False  # the production default, whatever tests set
    run = make_scenario(egress_allow_hosts=[]).dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    first = run_step_evidence(run=run)[0]
    assert first.status == "error"
    error = first.attempts[0].error
    assert error is not None
    assert "egress policy: 127.0.0.1 resolves to 127.0.0.1" in error.message
    assert target.hits == []


def test_egress_setting_allows_private_targets_for_single_machine_installs(
    make_scenario: MakeScenario, target: Target, settings: Settings
) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = True
    run = make_scenario(egress_allow_hosts=[]).dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message


def test_a_run_past_its_time_limit_ends_in_error(
    make_scenario: MakeScenario, target: Target
) -> None:
    run = make_scenario(run_timeout_seconds=1).dispatch()
    # Started two seconds ago by the database clock (the run is not finished, so it may change).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET started_at = now() - interval '2 seconds' WHERE id = %s", [run.pk]
        )
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert "time limit of 1 s before step 1 of 3" in run.error_message
    assert target.hits == []


def test_a_checkpoint_sealed_under_another_store_key_ends_the_run_with_a_clear_error(
    make_scenario: MakeScenario, target: Target, settings: Settings
) -> None:
    two_steps = copy.deepcopy(ONE_SLOW_STEP)
    two_steps["journey"]["steps"].append({**two_steps["journey"]["steps"][0], "id": "again"})
    run = make_scenario(two_steps, secret=False).dispatch()
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    checkpoint_commit(lease, index=0, step_id="slow", evidence={"status": "passed"}, snapshot={})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
            [run.pk],
        )
    settings.REQFLO_SECRETS_KEY = "another-store-key-after-a-rotation-" + "z" * 10
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith(
        "The run cannot resume at step 2: its checkpoint does not decrypt under the current "
        "store key"
    )
    assert run.attempts == 2
    assert target.hits == []


def test_a_deep_response_body_fails_its_checks_and_the_always_step_still_runs(
    make_scenario: MakeScenario, targets: Targets
) -> None:
    """Issue 13, kind 6 on the Cloud Runner: a body nested too deeply is evidence, not a crash."""
    deep = f"{targets.main.base_url}/deep?depth=3000"
    document = {
        "journey": {
            "name": "Deep body",
            "steps": [
                {
                    "id": "c",
                    "request": {"method": "GET", "url": deep},
                    "assertions": [
                        {"type": "json_path", "path": "$.b", "operator": "equals", "expected": 1}
                    ],
                    "outputs": {"b": {"from": "body", "path": "$.b"}},
                },
                {
                    "id": "cleanup",
                    "always": True,
                    "request": {"method": "GET", "url": f"{targets.main.base_url}/echo"},
                },
            ],
        }
    }
    run = make_scenario(document, secret=False).dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()

    assert run.status == RunStatus.FAILED, run.error_message
    steps = run_step_evidence(run=run)
    assert [(s.step_id, s.status) for s in steps] == [("c", "failed"), ("cleanup", "passed")]
    check = steps[0].attempts[0].assertions[0]
    assert check.actual_missing == "body_too_deep"


def test_a_checkpoint_out_of_order_ends_the_run_saying_so_not_as_a_lost_lease(
    make_scenario: MakeScenario, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reqflo.runners import execution

    run = make_scenario().dispatch()

    def moved_on(lease: object, *, index: int, **rest: object) -> None:
        if index == 1:  # the stored progress moved on under the worker's own lease
            Run.objects.filter(pk=run.pk).update(next_step=2)
        checkpoint_commit(lease, index=index, **rest)  # type: ignore[arg-type]

    monkeypatch.setattr(execution, "checkpoint_commit", moved_on)

    run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message == (
        f"Run {run.pk}: the checkpoint is for step index 1, but the run's next step index is 2 "
        "(2 steps stored); checkpoints are stored in step order."
    )
    assert target.count("/echo") == 0
