"""A secret input that is an object is masked leaf by leaf on the worker path too.

The run goes through ``run_execute`` (the code a Celery worker runs) against the test database
and a loopback target; each leaf is used on its own (a query, a JSON body, a URL port, a host
name) and afterwards every row of the database and every log record is searched for it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reqflo.runners.execution import run_execute
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.runners.test_secret_inputs import _database_dump, _spellings
from tests.runs.fixtures import MakeScenario, Target

CREDS = {
    "user": "usr-Kq7vX2mPz",
    "password": "pw-Secret-Lm4Tz9Qw",
    "host": "hst-Rb8nW3yJ",
    "pin": 73918246,
    "nested": {"keys": ["k1-Vd5sG8hN", "k2-Ty6cE1rU"]},
}
LEAVES = ["usr-Kq7vX2mPz", "pw-Secret-Lm4Tz9Qw", "hst-Rb8nW3yJ", "73918246"]
LEAVES += ["k1-Vd5sG8hN", "k2-Ty6cE1rU"]

JOURNEY: dict[str, Any] = {
    "journey": {
        "name": "Structured secret input",
        "inputs": [{"name": "creds", "secret": True, "type": "object"}],
        "steps": [
            {
                "id": "parts",
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/echo",
                    "query": {
                        "k": "{{ inputs.creds.password }}",
                        "u": "{{ inputs.creds.user }}",
                        "n": "{{ inputs.creds.nested.keys[1] }}",
                    },
                    "json": {"pin": "{{ inputs.creds.pin }}", "k": "{{ inputs.creds.nested }}"},
                },
                "assertions": [
                    {"type": "json_path", "path": "$.echo", "operator": "equals", "expected": "x"}
                ],
                "outputs": {"o": {"from": "body", "path": "$", "secret": True}},
            },
            {
                "id": "again",
                "always": True,
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo?k={{ steps.parts.outputs.o.echo }}",
                },
            },
            {
                "id": "port",
                "always": True,
                "request": {"method": "GET", "url": "http://127.0.0.1:{{ inputs.creds.user }}/"},
            },
            {
                "id": "host",
                "always": True,
                "request": {"method": "GET", "url": "http://{{ inputs.creds.host }}.invalid/"},
            },
        ],
    }
}


@pytest.mark.django_db
def test_no_leaf_of_a_secret_object_input_is_in_the_database_or_the_log(
    make_scenario: MakeScenario,
    target: Target,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    scenario = make_scenario(JOURNEY, secret=False)
    run = run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
        triggered_by=scenario.owner,
        inputs={"creds": CREDS},
    ).run

    with caplog.at_level(logging.DEBUG):
        run_execute(run_id=run.pk)

    run = Run.objects.get(pk=run.pk)
    assert run.status == RunStatus.FAILED, run.error_message
    assert target.count("/echo") == 2  # the leaves did reach the target
    dump = _database_dump()
    assert "Structured secret input" in dump
    log = "\n".join(
        [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records]
    )
    assert f"Run {run.pk} step 4/4 host" in log
    for leaf in LEAVES:
        for spelling in _spellings(leaf):
            assert spelling not in dump, f"{spelling!r} is in the database"
            assert spelling not in log, f"{spelling!r} is in the log"
