"""What a run's nudge carries on the broker: its queue and the config's time limits."""

from __future__ import annotations

import pytest
from kombu import Connection

from reqflo.runners.admission import EXECUTE_RUN_TASK, run_enqueue
from tests.runners.workers import RABBITMQ, Workers, region, workers
from tests.runs.fixtures import MakeScenario

__all__ = ["region", "workers"]  # fixtures

pytestmark = pytest.mark.django_db


def test_a_nudge_goes_to_the_region_queue_with_time_limits_from_the_config(
    make_scenario: MakeScenario, workers: Workers, region: str
) -> None:
    scenario = make_scenario(
        region=region,
        run_timeout_seconds=100,
        step_timeout_seconds=10,
        step_max_retries=1,
        step_max_retry_delay_seconds=5,
    )
    run = scenario.dispatch()  # not committed, so nothing is sent yet
    run_enqueue(run_id=run.pk, config=scenario.config)
    with Connection(RABBITMQ) as broker:
        queue = broker.SimpleQueue(workers.queue)
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert message.headers["task"] == EXECUTE_RUN_TASK
    assert message.payload[0] == [str(run.pk)]  # the args
    # hard, soft: the run timeout + the longest step (2 attempts of 10 s + one 5 s delay) + 30
    assert message.headers["timelimit"] == [185, 155]
