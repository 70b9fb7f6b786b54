"""A finished cloud run with everything a run page shows, for the run pages' and reports' tests.

The journey logs in with the ``api_key`` secret (a secret output ``token``), fails an assertion
on the profile (expected "Grace", actual "Ada", and a path that matches nothing) and, always,
echoes the secret input ``password`` back in a query. The run executes in-process through
``run_execute`` against the loopback target of ``tests/runs/fixtures.py``.
"""

from __future__ import annotations

from typing import Any

from reqflo.runners.execution import run_execute
from reqflo.runners.services import batch_dispatch, run_dispatch
from reqflo.runs.models import Run, RunBatch, Trigger
from tests.runs.fixtures import Scenario

SECRET_INPUT = "inp-Pages-5Kd8Wq3Nz6Rb"

PAGES_JOURNEY: dict[str, Any] = {
    "journey": {
        "name": "Profile check",
        "inputs": [
            {"name": "password", "secret": True},
            {"name": "user", "default": "ada"},
        ],
        "steps": [
            {
                "id": "login",
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/login",
                    "headers": {"X-Api-Key": "{{ secrets.api_key }}"},
                    "json": {"key": "{{ secrets.api_key }}"},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
                "outputs": {"token": {"from": "body", "path": "$.token", "secret": True}},
            },
            {
                "id": "profile",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/profile",
                    "headers": {"Authorization": "Bearer {{ steps.login.outputs.token }}"},
                },
                "assertions": [
                    {"type": "status_code", "expected": 200},
                    {
                        "type": "json_path",
                        "path": "$.name",
                        "operator": "equals",
                        "expected": "Grace",
                    },
                    {"type": "json_path", "path": "$.nickname", "operator": "exists"},
                ],
                "outputs": {"name": {"from": "body", "path": "$.name"}},
            },
            {
                "id": "echo",
                "always": True,
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"k": "{{ inputs.password }}"},
                },
                "assertions": [{"type": "body_contains", "expected": "echo"}],
            },
        ],
    }
}


def queued_run(scenario: Scenario, *, password: str = SECRET_INPUT) -> Run:
    """Dispatch the journey with ``password`` from the editor; the run waits ``queued``."""
    return run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.EDITOR,
        triggered_by=scenario.owner,
        inputs={"password": password},
    ).run


def finished_run(scenario: Scenario, *, password: str = SECRET_INPUT) -> Run:
    """Dispatch the journey with ``password`` and run it to its end in this process."""
    run = queued_run(scenario, password=password)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def finished_batch(scenario: Scenario, *, rows: int = 3) -> RunBatch:
    """Dispatch a batch of ``rows`` rows (each its own password) and run every child."""
    batch = batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=[{"password": f"{SECRET_INPUT}-{n}"} for n in range(rows)],
        trigger=Trigger.EDITOR,
        triggered_by=scenario.owner,
    ).batch
    for child in Run.objects.filter(batch=batch).order_by("batch_row"):
        run_execute(run_id=child.pk)
    return batch
