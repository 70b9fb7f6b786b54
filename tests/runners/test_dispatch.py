"""Dispatching runs: what a run records, and objects of another workspace refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from reqflo.core.models import Workspace
from reqflo.journeys.services import environment_create
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import RunnerKind, RunStatus, Trigger
from tests.runs.fixtures import MakeScenario

pytestmark = pytest.mark.django_db


def test_dispatch_records_a_queued_cloud_run_of_the_versions_artifact(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    run = scenario.dispatch()
    assert run.status == RunStatus.QUEUED
    assert run.runner_kind == RunnerKind.CLOUD
    assert run.trigger == Trigger.API
    assert run.triggered_by == scenario.owner
    assert run.artifact.version == scenario.version
    assert run.artifact.artifact_id.startswith("art_")
    assert (run.step_count, run.next_step, run.lease_token, run.attempts) == (3, 0, 0, 0)


def test_dispatch_refuses_an_environment_of_another_workspace(
    make_scenario: MakeScenario, other_workspace: Workspace
) -> None:
    scenario = make_scenario()
    foreign = environment_create(
        workspace=other_workspace, name="theirs", base_url="http://127.0.0.1:9", values={}
    )
    with pytest.raises(ValidationError) as caught:
        run_dispatch(
            workspace=scenario.workspace,
            version=scenario.version,
            environment=foreign,
            trigger=Trigger.EDITOR,
        )
    assert caught.value.message_dict == {
        "environment": ["The environment belongs to another workspace."]
    }
