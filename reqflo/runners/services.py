"""Create cloud runs and admit them: the one way a run comes into being, whoever triggers it.

Creation and admission live together here, in the runners app that owns the queue and the
concurrency limit; the runs app below holds only the rows and their reads.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from reqflo.core.models import Workspace
from reqflo.engine import Artifact, merge_inputs, numbers
from reqflo.journeys.models import Case, Environment, JourneyVersion
from reqflo.journeys.services import build_artifact_for_version
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.config import runner_config_for
from reqflo.runs.inputs import seal_inputs
from reqflo.runs.models import Run, RunBatch, RunnerKind, Trigger


def _check_same_workspace(
    *, workspace: Workspace, version: JourneyVersion, environment: Environment, case: Case | None
) -> None:
    errors: dict[str, str] = {}
    if version.journey.workspace_id != workspace.pk:
        errors["version"] = "The journey version belongs to another workspace."
    if environment.workspace_id != workspace.pk:
        errors["environment"] = "The environment belongs to another workspace."
    elif environment.archived:
        errors["environment"] = f"The environment {environment.name} is archived."
    if case is not None and case.journey_id != version.journey_id:
        errors["case"] = f"The case {case.name} belongs to another journey."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def run_dispatch(
    *,
    workspace: Workspace,
    version: JourneyVersion,
    environment: Environment,
    trigger: Trigger,
    triggered_by: User | None = None,
    case: Case | None = None,
    inputs: dict[str, Any] | None = None,
    batch: RunBatch | None = None,
    batch_row: int | None = None,
) -> Run:
    """Create a cloud run ``queued`` and nudge a worker once the transaction commits.

    Inputs are merged (default < case < ``inputs``) now, so the run records exactly what it ran
    with; secrets are resolved later, by the worker. Runs beyond the workspace's concurrency
    limit stay queued and start as others finish. Raises ``ValidationError`` for objects of
    another workspace and ``DefinitionError`` for inputs of the wrong type.
    """
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=case)
    artifact_row = build_artifact_for_version(version=version)
    artifact = Artifact.from_json(artifact_row.plan)
    merged = merge_inputs(artifact, case=case.values if case else None, overrides=inputs)
    # A decimal with more digits than a float holds is stored as its text; the worker coerces
    # the inputs again (engine `merge_inputs`), so the run sends every digit.
    shown, sealed = seal_inputs(numbers.plain(merged), artifact.plan)
    runner_config_for(workspace_id=workspace.pk)
    run = Run.objects.create(
        workspace=workspace,
        journey_version=version,
        artifact=artifact_row,
        environment=environment,
        case=case,
        inputs=shown,
        sealed_inputs=sealed,
        runner_kind=RunnerKind.CLOUD,
        trigger=trigger,
        triggered_by=triggered_by,
        step_count=len(artifact.plan["steps"]),
        batch=batch,
        batch_row=batch_row,
    )
    workspace_id = workspace.pk
    transaction.on_commit(lambda: runs_enqueue_waiting(workspace_id=workspace_id))
    return run
