"""Dispatch through a real broker to real workers: one message per run, a broker down at
dispatch, a cancel that lands mid-run, and batch children within the concurrency limit.

RabbitMQ on the test's own queue (``tests/runners/workers.py``); the broker-down case points the
test process at a port nobody listens on and touches no broker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from kombu import Connection

from reqflo.celery import app as celery_app
from reqflo.runners.services import batch_dispatch, run_cancel, run_dispatch
from reqflo.runners.sweeper import runs_sweep
from reqflo.runs.models import Run, RunStatus, StepResult, Trigger
from reqflo.runs.selectors import batch_summary
from tests.runners.workers import (
    RABBITMQ,
    Workers,
    _reset_broker_pools,
    finished,
    region,
    wait_for,
    workers,
)
from tests.runs.fixtures import ONE_SLOW_STEP, MakeScenario, Scenario, Target

__all__ = ["region", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1//"


def _queue_depth(queue: str) -> int:
    with Connection(RABBITMQ) as conn:
        return int(conn.default_channel.queue_declare(queue, passive=True).message_count)


def _received(workers: Workers) -> int:
    """Count the execute_run messages the workers received (their INFO log says so)."""
    return len(re.findall(r"execute_run\[[0-9a-f-]+\] received", workers.log_text()))


def _dispatch(scenario: Scenario) -> Run:
    return scenario.dispatch()


def test_a_burst_of_dispatches_sends_one_message_per_run(
    make_scenario: MakeScenario, workers: Workers, region: str
) -> None:
    scenario = make_scenario(region=region, concurrency_limit=5)
    runs = [_dispatch(scenario) for _ in range(20)]
    # Five fit the limit and were nudged; fifteen wait without a message.
    assert _queue_depth(workers.queue) == 5
    assert Run.objects.filter(nudged_at__isnull=False).count() == 5
    workers.start(concurrency=2)
    for run in runs:
        wait_for(finished(run), timeout=120, what=f"run {run.pk} to finish", tick=runs_sweep)
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.PASSED}
    # Each run was delivered once: finishing runs nudged the waiting ones, nothing twice.
    assert _received(workers) == 20
    assert _queue_depth(workers.queue) == 0


@contextmanager
def _broker_down() -> Iterator[None]:
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = UNREACHABLE_BROKER
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = saved
        _reset_broker_pools()


def test_a_broker_down_at_dispatch_leaves_a_queued_run_the_sweeper_starts(
    make_scenario: MakeScenario, workers: Workers, region: str, target: Target
) -> None:
    scenario = make_scenario(region=region)
    with _broker_down():
        dispatched = run_dispatch(
            workspace=scenario.workspace,
            version=scenario.version,
            environment=scenario.environment,
            trigger=Trigger.API,
            triggered_by=scenario.owner,
        )
    assert dispatched.created
    assert dispatched.broker_error  # the caller learns: queued, broker unreachable
    run = Run.objects.get(pk=dispatched.run.pk)
    assert (run.status, run.nudged_at) == (RunStatus.QUEUED, None)
    assert target.hits == []
    # The broker is back: the sweeper (beat's task) nudges the run and a worker runs it.
    workers.start()
    wait_for(finished(run), timeout=60, what="the swept run to finish", tick=runs_sweep)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message


def test_a_cancel_that_lands_mid_run_stops_the_worker_before_its_next_request(
    make_scenario: MakeScenario, workers: Workers, region: str, target: Target, editor: User
) -> None:
    scenario = make_scenario(region=region)
    target.block("/profile")
    run = _dispatch(scenario)
    workers.start()
    target.wait_for_hits("/profile", 1, timeout=60)  # step 2 is on the wire
    requested = run_cancel(run=run, by=editor)
    assert requested.status == RunStatus.RUNNING
    target.release("/profile")
    wait_for(finished(run), timeout=60, what="the cancelled run to end")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.error_message == (
        f"Cancelled by {editor.email} before step 3 of 3; the steps before it are kept."
    )
    assert run.cancelled_by == editor
    assert target.count("/echo") == 0  # nothing was sent after the cancel landed
    # The evidence of the steps that ran is kept.
    assert list(StepResult.objects.filter(run=run).values_list("index", "status")) == [
        (0, "passed"),
        (1, "passed"),
    ]


def test_batch_children_respect_the_concurrency_limit_and_spread_over_workers(
    make_scenario: MakeScenario, workers: Workers, region: str, target: Target
) -> None:
    target.slow_seconds = 0.5
    scenario = make_scenario(ONE_SLOW_STEP, region=region, concurrency_limit=2)
    batch = batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=[{} for _ in range(8)],
        trigger=Trigger.API,
    ).batch
    workers.start()
    workers.start()
    for child in batch.runs.all():
        wait_for(finished(child), timeout=120, what="every child to finish", tick=runs_sweep)
    summary = batch_summary(batch=batch)
    assert (summary.status, summary.counts) == ("passed", {"passed": 8})
    # Never more than two requests at the target at once …
    spans = sorted((hit.started, hit.finished) for hit in target.hits)
    most = max(sum(1 for s, f in spans if s <= start < f) for start, _ in spans)
    assert most <= 2
    # … and both workers took children.
    assert len(set(batch.runs.values_list("lease_holder", flat=True))) == 2
