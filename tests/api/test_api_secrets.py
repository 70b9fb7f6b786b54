"""A run that used a secret, read through every API endpoint: the value appears nowhere.

The run is made by a real Celery worker against a loopback target that checks the secret
arrived (``X-Api-Key``) and issues a session token that the journey keeps as a secret output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest

from reqflo.runs.models import RunStatus
from tests.api.conftest import ApiClient
from tests.runners.workers import Workers, finished, region, wait_for, workers
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Target, make_scenario, target

__all__ = ["make_scenario", "region", "target", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _spellings(value: str) -> list[str]:
    return [
        value,
        json.dumps(value)[1:-1],
        quote(value),
        base64.b64encode(value.encode()).decode(),
        value[:12],
    ]


def test_no_endpoint_shows_a_secret_the_run_used(
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
    api_as: Callable[[str], ApiClient],
) -> None:
    run = make_scenario(region=region).dispatch()
    workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert target.seen_keys[0] == API_KEY  # the secret was really sent
    client = api_as("viewer")
    bodies = [
        client.get(path).content.decode()
        for path in (
            f"/runs/{run.pk}",
            f"/runs/{run.pk}/progress",
            f"/runs/{run.pk}/result",
            f"/runs/{run.pk}/report",
            f"/runs/{run.pk}/report?format=junit",
            f"/runs/{run.pk}/evidence",
            "/runs",
        )
    ]
    assert all(body for body in bodies)
    for body in bodies:
        for secret in (API_KEY, TOKEN):
            for spelling in _spellings(secret):
                assert spelling not in body
