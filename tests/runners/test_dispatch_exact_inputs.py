"""A cloud run keeps a number input as written (issue 13, numbers): stored, sealed or not, and
coerced again by the worker, `100.10` is still `100.10` and `00012` still `00012`."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.engine import Artifact, merge_inputs
from reqflo.journeys.documents import check_text
from reqflo.journeys.services import journey_create
from reqflo.runners.services import run_dispatch
from reqflo.runs.inputs import run_inputs
from reqflo.runs.models import Trigger
from tests.factories import EnvironmentFactory

JOURNEY = """
journey:
  name: Exact inputs
  inputs:
    - {name: n, type: number, required: true}
    - {name: hidden, type: number, required: true, secret: true}
  steps:
    - id: send
      request: {method: POST, url: "http://127.0.0.1:9/pay?n={{ inputs.n }}", json: {n: "{{ inputs.n }}", h: "{{ inputs.hidden }}"}}
"""  # noqa: E501


@pytest.mark.parametrize("text", ["100.10", "00012", "1e5", "12345678901234567890.10", "19.99"])
def test_a_number_input_of_a_cloud_run_reaches_the_worker_as_written(
    workspace: Workspace, editor: User, text: str
) -> None:
    journey = journey_create(workspace=workspace, author=editor, checked=check_text(JOURNEY))
    run = run_dispatch(
        workspace=workspace,
        version=journey.head,
        environment=EnvironmentFactory(workspace=workspace),
        trigger=Trigger.API,
        inputs={"n": text, "hidden": text},
    ).run
    run.refresh_from_db()
    # What the worker does: the stored inputs, the sealed ones put back, coerced again.
    artifact = Artifact.from_json(run.artifact.plan)
    merged = merge_inputs(artifact, overrides=run_inputs(run))
    assert str(merged["n"]) == text
    assert str(merged["hidden"]) == text
