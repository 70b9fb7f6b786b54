"""One dispatch for every caller: the Run check, idempotency keys, batches, cancel and re-run.

On PostgreSQL with the real services; the tests that need the broker and real workers are in
``test_dispatch_broker.py``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from reqflo.runners.leases import checkpoint_commit, lease_release, lease_take, run_finish
from reqflo.runners.models import AttemptEnd
from reqflo.runners.services import (
    DispatchRefused,
    IdempotencyConflict,
    NotCancellable,
    batch_cancel,
    batch_dispatch,
    run_cancel,
    run_dispatch,
    run_rerun,
)
from reqflo.runs.models import Run, RunBatch, RunStatus, Trigger
from reqflo.runs.selectors import batch_summary
from tests.runs.fixtures import MakeScenario, Scenario

pytestmark = pytest.mark.django_db

WITH_INPUTS: dict[str, Any] = {
    "journey": {
        "name": "Numbered",
        "inputs": [
            {"name": "n", "type": "integer", "required": True},
            {"name": "password", "secret": True, "default": "pw-default-Zq81"},
        ],
        "steps": [
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"n": "{{ inputs.n }}", "p": "{{ inputs.password }}"},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


def _dispatch(scenario: Scenario, **kwargs: Any) -> Any:
    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        **kwargs,
    )


def _batch(scenario: Scenario, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    return batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=rows,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        **kwargs,
    )


# --- The Run check --------------------------------------------------------------------------


def test_run_check_errors_block_the_dispatch_and_create_nothing(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(secret=False)
    with pytest.raises(DispatchRefused) as refused:
        _dispatch(scenario)
    paths = {issue.path for issue in refused.value.issues}
    assert "steps[0].request.headers.X-Api-Key" in paths
    assert all("Missing secret api_key" in issue.message for issue in refused.value.issues)
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("inputs", "path", "words"),
    [
        ({}, "inputs[0]", "required"),
        ({"n": "twelve"}, "inputs.n", "not a whole number"),
    ],
)
def test_inputs_that_do_not_fit_are_refused_naming_the_input(
    make_scenario: MakeScenario, inputs: dict[str, Any], path: str, words: str
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    with pytest.raises(DispatchRefused) as refused:
        _dispatch(scenario, inputs=inputs)
    issue = refused.value.issues[0]
    assert issue.path == path
    assert words in issue.message.lower()
    assert not Run.objects.exists()


def test_a_secret_input_that_does_not_fit_is_refused_without_its_value(
    make_scenario: MakeScenario,
) -> None:
    document = json.loads(json.dumps(WITH_INPUTS))
    document["journey"]["inputs"][0]["secret"] = True
    scenario = make_scenario(document)
    with pytest.raises(DispatchRefused) as refused:
        _dispatch(scenario, inputs={"n": "notnum-QvXk7Lm4Tz"})
    [issue] = refused.value.issues
    assert issue.path == "inputs.n"
    assert "not a whole number" in issue.message
    assert "QvXk7Lm4Tz" not in str(refused.value)
    assert not Run.objects.exists()


# --- Idempotency keys -----------------------------------------------------------------------


def test_the_same_key_with_the_same_parameters_gives_the_same_run(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    first = _dispatch(scenario, inputs={"n": 1}, idempotency_key="ci-4711")
    again = _dispatch(scenario, inputs={"n": 1}, idempotency_key="ci-4711")
    assert (first.created, again.created) == (True, False)
    assert again.run.pk == first.run.pk
    assert Run.objects.count() == 1


def test_other_parameters_under_a_used_key_are_refused(make_scenario: MakeScenario) -> None:
    scenario = make_scenario(WITH_INPUTS)
    _dispatch(scenario, inputs={"n": 1}, idempotency_key="ci-4711")
    with pytest.raises(IdempotencyConflict, match="'ci-4711' was used for another dispatch"):
        _dispatch(scenario, inputs={"n": 2}, idempotency_key="ci-4711")
    # A secret input is part of the parameters too, though never stored in clear.
    with pytest.raises(IdempotencyConflict):
        _dispatch(scenario, inputs={"n": 1, "password": "other"}, idempotency_key="ci-4711")
    assert Run.objects.count() == 1


def test_the_fingerprint_holds_no_secret_input_in_any_spelling(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    secret = "Zq81-very-secret"
    run = _dispatch(scenario, inputs={"n": 1, "password": secret}, idempotency_key="k").run
    row = Run.objects.values().get(pk=run.pk)
    text = repr(row)
    assert secret not in text
    assert secret.lower() not in text.lower()
    import hashlib

    assert hashlib.sha256(secret.encode()).hexdigest() not in text


def test_a_key_longer_than_two_hundred_characters_is_refused(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    with pytest.raises(Exception, match="At most 200 characters"):
        _dispatch(scenario, inputs={"n": 1}, idempotency_key="k" * 201)


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_with_one_key_create_one_run(make_scenario: MakeScenario) -> None:
    scenario = make_scenario(WITH_INPUTS, concurrency_limit=50)
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def dispatch() -> None:
        try:
            start.wait()
            results.append(_dispatch(scenario, inputs={"n": 7}, idempotency_key="burst"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({result.run.pk for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert Run.objects.count() == 1


# --- Batches --------------------------------------------------------------------------------


def test_a_batch_makes_one_child_per_row_with_the_rows_inputs(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    batch = _batch(scenario, [{"n": 1}, {"n": "2"}, {"n": 3}]).batch
    children = list(batch.runs.order_by("batch_row"))
    assert [c.batch_row for c in children] == [0, 1, 2]
    assert [c.inputs["n"] for c in children] == [1, 2, 3]  # "2" coerced as the input says
    assert all(c.inputs["password"] == "•••••" for c in children)  # sealed, never stored
    assert batch.row_count == 3


def test_a_batch_row_that_fails_the_run_check_is_named_and_nothing_is_created(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    with pytest.raises(DispatchRefused) as refused:
        _batch(scenario, [{"n": 1}, {"n": "x"}, {}])
    assert [issue.path for issue in refused.value.issues] == [
        "rows[1].inputs.n",
        "rows[2].inputs[0]",
    ]
    assert not RunBatch.objects.exists()
    assert not Run.objects.exists()


def test_an_empty_batch_is_refused(make_scenario: MakeScenario) -> None:
    scenario = make_scenario(WITH_INPUTS)
    with pytest.raises(Exception, match="no rows"):
        _batch(scenario, [])


def test_a_thousand_row_fan_out_retried_halfway_creates_no_duplicate_child(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    rows = [{"n": i} for i in range(1000)]
    first = _batch(scenario, rows, idempotency_key="fanout-1")
    # The first attempt died halfway: only the first 500 children were made.
    Run.objects.filter(batch=first.batch, batch_row__gte=500).delete()
    assert first.batch.runs.count() == 500
    again = _batch(scenario, rows, idempotency_key="fanout-1")
    assert again.created is False
    assert again.batch.pk == first.batch.pk
    assert sorted(first.batch.runs.values_list("batch_row", flat=True)) == list(range(1000))
    # And a full retry adds nothing.
    _batch(scenario, rows, idempotency_key="fanout-1")
    assert Run.objects.count() == 1000
    with pytest.raises(IdempotencyConflict):
        _batch(scenario, rows[:10], idempotency_key="fanout-1")


def test_a_batch_cancelled_before_its_fan_out_completed_is_not_completed_by_a_retry(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    rows = [{"n": i} for i in range(6)]
    first = _batch(scenario, rows, idempotency_key="fanout-cancel")
    # The first attempt died before any child was made; then the batch was cancelled.
    Run.objects.filter(batch=first.batch).delete()
    cancelled = batch_cancel(batch=first.batch, by=scenario.owner)
    assert batch_summary(batch=cancelled).status == RunStatus.CANCELLED
    again = _batch(scenario, rows, idempotency_key="fanout-cancel")
    assert again.batch.pk == first.batch.pk
    assert again.created is False
    assert Run.objects.count() == 0
    summary = batch_summary(batch=again.batch)
    assert summary.status == RunStatus.CANCELLED
    assert summary.counts == {RunStatus.CANCELLED: 6}


def test_an_input_the_journey_does_not_declare_is_refused_with_a_hint(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    with pytest.raises(DispatchRefused) as refused:
        _dispatch(scenario, inputs={"n": 1, "passwrd": "typo-secret-Vq93"})
    [issue] = refused.value.issues
    assert issue.path == "inputs.passwrd"
    assert issue.message == "'passwrd' is not an input of this journey; did you mean 'password'?"
    assert Run.objects.count() == 0


def test_label_and_unknown_columns_of_data_rows_are_not_stored_as_inputs(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    rows = [{"n": 1, "case": "first", "name": "one", "extra": "x"}, {"n": 2}]
    batch = _batch(scenario, rows).batch
    stored = list(batch.runs.order_by("batch_row").values_list("inputs", flat=True))
    assert [sorted(inputs) for inputs in stored] == [["n", "password"], ["n", "password"]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_fan_out_make_each_child_once(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    rows = [{"n": i} for i in range(300)]
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def fan_out() -> None:
        try:
            start.wait()
            _batch(scenario, rows, idempotency_key="fanout-2")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fan_out) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert RunBatch.objects.count() == 1
    assert Run.objects.count() == 300


def _finish(run: Run, status: RunStatus) -> None:
    lease = lease_take(run_id=run.pk)
    assert lease is not None
    run_finish(lease, status=status)


def test_a_batch_aggregates_its_childrens_statuses(make_scenario: MakeScenario) -> None:
    scenario = make_scenario(WITH_INPUTS, concurrency_limit=10)
    batch = _batch(scenario, [{"n": i} for i in range(4)]).batch
    assert batch_summary(batch=batch).status == "queued"
    children = list(batch.runs.order_by("batch_row"))
    _finish(children[0], RunStatus.PASSED)
    summary = batch_summary(batch=batch)
    assert (summary.status, summary.finished, summary.counts) == (
        "running",
        1,
        {"passed": 1, "queued": 3},
    )
    for child in children[1:3]:
        _finish(child, RunStatus.PASSED)
    _finish(children[3], RunStatus.FAILED)
    summary = batch_summary(batch=batch)
    assert (summary.status, summary.finished, summary.total) == ("failed", 4, 4)


# --- Cancel and re-run ----------------------------------------------------------------------


def test_cancelling_a_queued_run_ends_it_at_once_saying_who(
    make_scenario: MakeScenario, editor: User
) -> None:
    scenario = make_scenario()
    run = scenario.dispatch()
    cancelled = run_cancel(run=run, by=editor)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.cancelled_by == editor
    assert cancelled.cancel_requested_at is not None
    assert cancelled.finished_at is not None
    assert cancelled.error_message == f"Cancelled by {editor.email} before it started."
    assert lease_take(run_id=run.pk) is None  # no worker will run it
    with pytest.raises(NotCancellable, match="already finished"):
        run_cancel(run=run, by=editor)


def test_cancelling_a_running_run_is_a_request_the_worker_honours(
    make_scenario: MakeScenario, editor: User
) -> None:
    scenario = make_scenario()
    run = scenario.dispatch()
    assert lease_take(run_id=run.pk, holder="w1@host") is not None
    requested = run_cancel(run=run, by=editor)
    assert requested.status == RunStatus.RUNNING  # ends at the worker's next request
    assert requested.cancel_requested_at is not None
    assert requested.lease_holder == "w1@host"


def test_cancelling_a_run_given_back_to_the_queue_ends_it_at_once(
    make_scenario: MakeScenario, editor: User
) -> None:
    """Released by a stopping worker (or runner), nobody holds it: nobody would see a request."""
    scenario = make_scenario()
    run = scenario.dispatch()
    lease = lease_take(run_id=run.pk, holder="w1@host")
    assert lease is not None
    checkpoint_commit(lease, index=0, step_id="login", evidence={"status": "passed"}, snapshot={})
    assert lease_release(lease, why=AttemptEnd.RELEASED)
    cancelled = run_cancel(run=run, by=editor)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.error_message == (
        f"Cancelled by {editor.email} while waiting to be resumed after step 1 of 3."
    )
    assert lease_take(run_id=run.pk) is None


def test_cancelling_a_batch_cancels_every_unfinished_child(
    make_scenario: MakeScenario, editor: User
) -> None:
    scenario = make_scenario(WITH_INPUTS, concurrency_limit=10)
    batch = _batch(scenario, [{"n": i} for i in range(3)]).batch
    first = batch.runs.get(batch_row=0)
    _finish(first, RunStatus.PASSED)
    batch = batch_cancel(batch=batch, by=editor)
    statuses = dict(batch.runs.values_list("batch_row", "status"))
    assert statuses == {0: "passed", 1: "cancelled", 2: "cancelled"}
    assert batch_summary(batch=batch).status == "cancelled"
    with pytest.raises(NotCancellable):
        batch_cancel(batch=batch, by=editor)


def test_a_rerun_is_a_new_run_of_the_same_artifact_and_inputs(
    make_scenario: MakeScenario, editor: User
) -> None:
    scenario = make_scenario(WITH_INPUTS)
    run = _dispatch(scenario, inputs={"n": 5, "password": "pw-given-Lk2"}).run
    _finish(run, RunStatus.FAILED)
    run.refresh_from_db()
    # Secret inputs are not kept once a run finishes, so the re-run asks for them.
    with pytest.raises(DispatchRefused) as refused:
        run_rerun(run=run, by=editor, trigger=Trigger.EDITOR)
    assert [issue.path for issue in refused.value.issues] == ["inputs.password"]
    again = run_rerun(
        run=run, by=editor, trigger=Trigger.EDITOR, secret_inputs={"password": "pw-given-Lk2"}
    ).run
    assert again.pk != run.pk
    assert again.artifact_id == run.artifact_id
    assert again.inputs == run.inputs == {"n": 5, "password": "•••••"}
    assert again.triggered_by == editor
    assert again.status == RunStatus.QUEUED


def test_a_rerun_of_an_unfinished_run_reuses_its_sealed_inputs(
    make_scenario: MakeScenario, editor: User
) -> None:
    scenario = make_scenario(WITH_INPUTS, concurrency_limit=10)
    run = _dispatch(scenario, inputs={"n": 5}).run
    again = run_rerun(run=run, by=editor, trigger=Trigger.API).run
    assert again.sealed_inputs is not None
    assert again.inputs == {"n": 5, "password": "•••••"}
