"""Owners' limits are limits: step timeouts, retries and delays capped; run time limits end runs.

Worker-path tests call ``run_execute`` as the task does, against the loopback target. The soft
time limit is Celery's real mechanism: SIGUSR1 delivered to the process running the task, whose
handler raises ``SoftTimeLimitExceeded`` wherever the run is.
"""

from __future__ import annotations

import copy
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.urls import reverse
from pytest_django.fixtures import Settings

from reqflo.journeys.editor import state_from_document
from reqflo.runners.config import runner_config_for
from reqflo.runners.execution import run_execute
from reqflo.runners.limits import StepLimits, capped_plan, step_caps
from reqflo.runs.models import Run, RunStatus, StepResult
from reqflo.runs.selectors import run_step_evidence
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney, make_journey
from tests.runs.fixtures import ONE_SLOW_STEP, MakeScenario, Target

__all__ = ["make_journey"]  # fixtures

pytestmark = pytest.mark.django_db

LIMITS = StepLimits(timeout_ms=3000, retries=2, delay_ms=1000)


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


def _step(timeout: Any = None, count: Any = 0, delay: Any = 0) -> dict[str, Any]:
    return {"timeout_ms": timeout, "retries": {"count": count, "delay_ms": delay}}


@pytest.mark.parametrize(
    ("step", "applied"),
    [
        (_step(600_000, 9, 60_000), (3000, 2, 1000)),
        (_step(None, 0, 0), (3000, 0, 0)),  # no timeout of its own: the workspace's
        (_step(500, 1, 200), (500, 1, 200)),  # within the limits: unchanged
        (_step(3000, 2, 1000), (3000, 2, 1000)),
    ],
)
def test_the_plan_a_worker_runs_is_capped_at_the_workspace_limits(
    step: dict[str, Any], applied: tuple[int, int, int]
) -> None:
    [capped] = capped_plan({"steps": [step]}, LIMITS)["steps"]
    assert (capped["timeout_ms"], capped["retries"]["count"], capped["retries"]["delay_ms"]) == (
        applied
    )


def test_each_capped_value_is_named_with_its_path() -> None:
    caps = step_caps([_step(500), _step(600_000, 9, 60_000)], LIMITS)
    assert [(c.path, c.asked, c.applied) for c in caps] == [
        ("steps[1].timeout_ms", 600_000, 3000),
        ("steps[1].retries.count", 9, 2),
        ("steps[1].retries.delay_ms", 60_000, 1000),
    ]
    assert caps[0].message() == (
        "on the Cloud Runner this step runs with 3000 instead of 600000: "
        "the workspace's step timeout is 3 s"
    )


def test_the_editor_run_check_shows_the_capped_values(
    client_as: ClientAs, make_journey: MakeJourney, workspace: Any
) -> None:
    config = runner_config_for(workspace_id=workspace.pk)
    config.step_timeout_seconds = 3
    config.save()
    journey = make_journey()
    data = samples.post_data(state_from_document(journey.head.document))
    data.update(
        {
            "steps-0-timeout_ms": "600000",
            "steps-0-retries-count": "9",
            "steps-0-retries-delay_ms": "60000",
            "base_version": str(journey.head_number),
            "mode": "form",
            "op": "save",
        }
    )
    html = (
        client_as("editor")
        .post(reverse("journeys:journey_check", args=[journey.pk]), data)
        .content.decode()
    )
    assert "steps[0].timeout_ms" in html
    assert "runs with 3000 instead of 600000" in html
    assert "the workspace allows at most 3 retries per step" in html
    assert "runs with 10000 instead of 60000" in html


def test_a_steps_own_timeout_cannot_beat_the_workspace_step_timeout(
    make_scenario: MakeScenario, target: Target
) -> None:
    target.slow_seconds = 3
    document = copy.deepcopy(ONE_SLOW_STEP)
    document["journey"]["steps"][0]["timeout_ms"] = 600_000
    run = make_scenario(document, secret=False, step_timeout_seconds=1).dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    [step] = run_step_evidence(run=run)
    error = step.attempts[-1].error
    assert error is not None
    assert error.kind == "timeout"
    assert "1000 ms" in error.message
    assert step.attempts[-1].duration_ms < 2900  # not the journey's 600 s


def test_a_steps_retries_and_delay_are_capped(make_scenario: MakeScenario, target: Target) -> None:
    document = copy.deepcopy(ONE_SLOW_STEP)
    step = document["journey"]["steps"][0]
    step["assertions"] = [{"type": "status_code", "expected": 201}]  # /slow answers 200
    step["retries"] = {"count": 50, "delay_ms": 600_000}
    scenario = make_scenario(
        document, secret=False, step_max_retries=2, step_max_retry_delay_seconds=0
    )
    run = scenario.dispatch()
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert target.count("/slow") == 3  # one attempt and two retries, not 51
    [evidence] = run_step_evidence(run=run)
    assert len(evidence.attempts) == 3


@pytest.fixture
def celery_soft_limit() -> Iterator[None]:
    """Install the handler Celery's pool installs for the soft time limit, as in a worker."""

    def handler(signum: int, frame: Any) -> None:
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGUSR1, handler)
    yield
    signal.signal(signal.SIGUSR1, previous)


def _soft_limit_in(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGUSR1))
    timer.start()
    return timer


@pytest.mark.parametrize("during", ["request", "retry delay"])
def test_the_soft_time_limit_ends_the_run_with_a_clear_error(
    during: str,
    make_scenario: MakeScenario,
    target: Target,
    celery_soft_limit: None,
) -> None:
    document = copy.deepcopy(ONE_SLOW_STEP)
    if during == "request":
        target.slow_seconds = 3
    else:
        step = document["journey"]["steps"][0]
        step["assertions"] = [{"type": "status_code", "expected": 201}]
        step["retries"] = {"count": 1, "delay_ms": 5000}
    run = make_scenario(document, secret=False).dispatch()
    timer = _soft_limit_in(0.5)
    try:
        run_execute(run_id=run.pk)
    finally:
        timer.cancel()
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.error_message.startswith("Run time limit reached during step 1 of 1"), (
        run.error_message
    )
    assert "invalid_request" not in run.error_message
    # The interrupted step is not stored as if the target had failed it.
    assert not StepResult.objects.filter(run=run).exists()
    assert Run.objects.get(pk=run.pk).finished_at is not None
