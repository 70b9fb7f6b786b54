"""Secret inputs are never at rest in clear: sealed while the run waits, gone once it finished.

The run goes through a real Celery worker over RabbitMQ against a loopback target that echoes
the value back; afterwards every row of every table of the test database is searched for it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from reqflo.engine import REDACTED
from reqflo.runners.execution import run_execute
from reqflo.runs.inputs import run_inputs
from reqflo.runs.models import Run, RunStatus
from reqflo.runs.selectors import run_step_evidence
from tests.runners.workers import Workers, finished, region, wait_for, workers
from tests.runs.fixtures import MakeScenario, Target

__all__ = ["region", "workers"]  # fixtures

SECRET_INPUT = "inp-Secret-7Qx9Lm2Vb4Zt"
PLAIN_INPUT = "plain-visible-value"

WITH_SECRET_INPUT: dict[str, Any] = {
    "journey": {
        "name": "Secret input",
        "inputs": [
            {"name": "password", "secret": True},
            {"name": "user"},
        ],
        "steps": [
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "headers": {
                        "X-Password": "{{ inputs.password }}",
                        "X-User": "{{ inputs.user }}",
                    },
                    "query": {"k": "{{ inputs.password }}"},
                },
                "assertions": [
                    {"type": "json_path", "path": "$.echo", "operator": "exists"},
                ],
            }
        ],
    }
}


def _database_dump() -> str:
    """Return every row of every table of the test database as JSON text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        rows: list[str] = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')
            rows += [row[0] for row in cursor.fetchall()]
    assert len(tables) > 10
    return "\n".join(rows)


def _spellings(value: str) -> list[str]:
    return [value, quote(value, safe=""), json.dumps(value)[1:-1], value.encode().hex()]


def _dispatch(make_scenario: MakeScenario, **config: Any) -> Run:
    scenario = make_scenario(WITH_SECRET_INPUT, secret=False, **config)
    from reqflo.runners.services import run_dispatch
    from reqflo.runs.models import Trigger

    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        inputs={"password": SECRET_INPUT, "user": PLAIN_INPUT},
    ).run


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_secret_input_is_nowhere_in_the_database_after_a_cloud_run_on_a_real_worker(
    make_scenario: MakeScenario, target: Target, workers: Workers, region: str
) -> None:
    run = _dispatch(make_scenario, region=region)
    queued = Run.objects.get(pk=run.pk)
    assert queued.inputs == {"password": REDACTED, "user": PLAIN_INPUT}
    assert queued.sealed_inputs, "the worker needs the value: it is sealed while the run waits"
    assert run_inputs(queued)["password"] == SECRET_INPUT
    dump = _database_dump()
    assert PLAIN_INPUT in dump  # the dump does hold the run's inputs
    for spelling in _spellings(SECRET_INPUT):
        assert spelling not in dump, f"queued run: {spelling!r} is in the database"

    workers.start()
    wait_for(finished(run), timeout=60, what="the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    assert run.sealed_inputs is None, "a finished run keeps no sealed input"
    assert target.count("/echo") == 1
    [step] = run_step_evidence(run=run)
    response = step.attempts[-1].response
    assert response is not None
    assert response.body == json.dumps({"echo": REDACTED}, ensure_ascii=False)  # echoed, masked
    dump = _database_dump()
    for spelling in _spellings(SECRET_INPUT):
        assert spelling not in dump, f"finished run: {spelling!r} is in the database"
    workers.stop_all()
    log = workers.log_text()
    assert f"Run {run.pk} step 1/1 echo: passed" in log
    assert SECRET_INPUT not in log


@pytest.mark.django_db
def test_a_run_that_cannot_unseal_its_inputs_ends_with_a_clear_error(
    make_scenario: MakeScenario, target: Target, settings: Any
) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    run = _dispatch(make_scenario)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET sealed_inputs = %s WHERE id = %s", [b"not a sealed value", run.pk]
        )
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert "sealed secret inputs do not decrypt" in run.error_message
    assert target.hits == []
