"""A secret cannot make the redactor burn a worker: a real worker, a 200,000-character answer.

A one-character secret input once made a Cloud Runner worker spin for minutes masking a large
response (Cancel could not stop it, a restarted worker picked the run up and spun again). These
runs go through a real Celery worker over RabbitMQ against a loopback target.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from reqflo.engine import REDACTED
from reqflo.runners.leases import run_cancel
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from reqflo.runs.selectors import run_step_evidence
from tests.runners.workers import Workers, finished, region, wait_for, workers
from tests.runs.fixtures import BIG_BLOB, MakeScenario, Target

__all__ = ["region", "workers"]  # fixtures

BIG: dict[str, Any] = {
    "journey": {
        "name": "Big answer",
        "inputs": [{"name": "password", "secret": True}],
        "steps": [
            {
                "id": "big",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/big",
                    "headers": {"X-Password": "{{ inputs.password }}"},
                },
                "assertions": [{"type": "status_code", "operator": "equals", "expected": 200}],
            }
        ],
    }
}


def _dispatch(make_scenario: MakeScenario, password: str, region: str) -> Run:
    scenario = make_scenario(BIG, secret=False, region=region)
    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        inputs={"password": password},
    ).run


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_one_character_secret_and_a_200k_answer_finish_promptly_on_a_real_worker(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    assert "x" in BIG_BLOB
    assert "X" in BIG_BLOB
    run = _dispatch(make_scenario, "x", region)
    workers.start()
    # Minutes before the fix; a few seconds now (the margin is for a loaded machine).
    wait_for(finished(run), timeout=90, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    [step] = run_step_evidence(run=run)
    response = step.attempts[-1].response
    assert response is not None
    # Masked where it stands alone as written (any case: `+x/`), and only there: the x's
    # inside the blob's runs of letters stay (docs/secrets.md, "Short secrets").
    assert REDACTED in response.body
    assert not re.search(r"(?<![^\W_])[xX](?![^\W_])", response.body)
    assert response.body.count("x") > 3000
    assert "Q" in response.body  # the rest is shown
    request = step.attempts[-1].request
    assert request is not None
    assert request.headers["X-Password"] == REDACTED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_long_redaction_and_the_run_ends_cancelled(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    run = _dispatch(make_scenario, "s3cr3t-T0ken/+==", region)
    target.block("/big")
    workers.start()
    target.wait_for_hits("/big", 1, timeout=60)
    # The answer is on the wire: the worker masks it next, and the cancel lands first.
    run_cancel(run=run, by=run.triggered_by)
    target.release("/big")
    wait_for(finished(run), timeout=90, what="the run to end")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED, run.error_message
    assert "Cancelled by" in run.error_message
    assert run_step_evidence(run=run) == []  # the half-masked step was not kept
    assert target.count("/big") == 1  # not picked up again
