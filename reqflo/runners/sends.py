"""Send in the editor: run one step of the unsaved journey on the Cloud Runner.

A send is a real cloud run (trigger ``editor_send``): the steps before the sent one run first,
so it sees their outputs, then the step itself. It goes through the same Run check, the worker,
its egress policy and its secret resolution as any run; only the plan differs, compiled from
what is on screen (a draft artifact) and cut after the sent step. Inputs take their defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from reqflo.engine import Artifact, DefinitionError, compile_definition
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import BuildArtifact, Environment, JourneyVersion
from reqflo.journeys.services import draft_artifact_create
from reqflo.runners.config import runner_config_for
from reqflo.runners.services import (
    Dispatched,
    DispatchRefused,
    _check_same_workspace,
    _merged_inputs,
    _new_run,
    _Nudge,
    _RunCheck,
)
from reqflo.runs.models import TERMINAL_STATUSES, Run, Trigger


def sent_plan(document: Mapping[str, Any], step_index: int) -> dict[str, Any]:
    """Return ``document`` cut after step ``step_index`` (what a send of that step runs)."""
    journey = document.get("journey")
    steps = journey.get("steps") if isinstance(journey, Mapping) else None
    if not isinstance(steps, list) or not 0 <= step_index < len(steps):
        raise ValidationError({"send_step": f"This journey has no step {step_index + 1}."})
    cut = copy.deepcopy(dict(document))
    cut["journey"]["steps"] = cut["journey"]["steps"][: step_index + 1]
    return cut


def step_send(
    *,
    version: JourneyVersion,
    document: Mapping[str, Any],
    step_index: int,
    environment: Environment,
    triggered_by: User,
) -> Dispatched:
    """Dispatch a cloud run of ``document``'s steps up to ``step_index`` (unsaved content).

    ``version`` is the version the editor started from; the run names it. Raises
    ``DispatchRefused`` with every blocking issue (the content does not validate, a required
    input has no default, an environment value is missing…) and ``ValidationError`` for a step
    that does not exist or an environment of another workspace.
    """
    workspace = version.journey.workspace
    _check_same_workspace(workspace=workspace, version=version, environment=environment, case=None)
    try:
        checked = check_document(sent_plan(document, step_index))
    except DefinitionError as error:
        raise DispatchRefused(error.issues) from None
    artifact: Artifact = compile_definition(checked.definition)
    merged = _merged_inputs(artifact, case=None, inputs=None)
    _RunCheck.of_definition(
        workspace=workspace, definition=checked.definition, environment=environment
    ).require(merged)
    runner_config_for(workspace_id=workspace.pk)
    nudge = _Nudge(workspace_id=workspace.pk)
    with transaction.atomic():
        run = _new_run(
            workspace=workspace,
            version=version,
            artifact_row=draft_artifact_create(workspace=workspace, artifact=artifact),
            plan=artifact.plan,
            environment=environment,
            case=None,
            merged=merged,
            trigger=Trigger.SEND,
            triggered_by=triggered_by,
        )
        run.save(force_insert=True)
        transaction.on_commit(nudge)
    sends_prune(journey_id=version.journey_id)  # on write: this journey's sends past their keep
    return Dispatched(run=run, created=True, broker_error=nudge.broker_error)


def sends_prune(
    *,
    journey_id: UUID | None = None,
    now: datetime | None = None,
    keep: int | None = None,
    max_age: timedelta | None = None,
) -> int:
    """Delete finished editor sends past their keep, with their results and draft artifacts.

    A send is kept while it is among the newest ``keep`` finished sends of its journey and user
    (default ``REQFLO_SENDS_KEEP``) and younger than ``max_age`` (default
    ``REQFLO_SENDS_MAX_AGE_HOURS``) at ``now``. Unfinished sends, sends another run retries,
    every other kind of run and every artifact of a version are never touched (the database
    refuses them: ``reqflo.runs.triggers``, journeys migration 0007). ``journey_id`` limits the
    pruning to one journey (a send prunes its own). Returns the number of sends deleted.
    """
    keep = settings.REQFLO_SENDS_KEEP if keep is None else keep
    max_age = timedelta(hours=settings.REQFLO_SENDS_MAX_AGE_HOURS) if max_age is None else max_age
    cutoff = (now or timezone.now()) - max_age
    sends = Run.objects.filter(trigger=Trigger.SEND, status__in=TERMINAL_STATUSES)
    if journey_id is not None:
        sends = sends.filter(journey_version__journey_id=journey_id)
    ranked = sends.annotate(
        newest=Window(
            RowNumber(),
            partition_by=[F("journey_version__journey_id"), F("triggered_by_id")],
            order_by=[F("created_at").desc(), F("id").desc()],
        )
    )
    doomed = ranked.filter(Q(newest__gt=keep) | Q(created_at__lt=cutoff))
    retried = Run.objects.filter(retry_of__isnull=False).values("retry_of_id")
    rows = list(doomed.exclude(pk__in=retried).values_list("pk", "artifact_id"))
    if not rows:
        return 0
    with transaction.atomic():
        Run.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        drafts = BuildArtifact.objects.filter(
            pk__in={artifact for _, artifact in rows}, version__isnull=True
        )
        drafts.exclude(pk__in=Run.objects.values("artifact_id")).delete()
    return len(rows)
