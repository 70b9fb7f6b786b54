"""API endpoints for cloud runs and batches: dispatch, read, follow, list and cancel.

Every write goes through ``reqflo.runners.services`` (the one dispatch service of every
caller): the Run check, the ``Idempotency-Key`` (same key and parameters, same run; other
parameters under it: 409), and one nudge to a worker after the commit. Reading needs the viewer
role; dispatching and cancelling the editor role.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from ninja import Field, Header, Router, Schema, Status

from reqflo.api.auth import Caller, require
from reqflo.api.errors import ApiError, issue_dicts
from reqflo.api.journeys_api import ERRORS, journey_by_slug, version_of
from reqflo.api.matching import match_name
from reqflo.api.schemas import (
    BatchIn,
    BatchOut,
    DispatchIn,
    ErrorOut,
    RunDetailOut,
    RunOut,
    RunPage,
    VerifyOut,
)
from reqflo.api.selectors import BadCursor, RunFilters, run_history
from reqflo.core.models import Role
from reqflo.engine import DefinitionError
from reqflo.engine.digest import bundle_verdict
from reqflo.journeys import selectors as journey_selectors
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.runners import services as dispatch
from reqflo.runs import reports
from reqflo.runs.models import Run, RunBatch, RunnerKind, RunStatus, StepResult, Trigger
from reqflo.runs.seals import seal_key
from reqflo.runs.selectors import batch_summary, run_evidence_bundle

router = Router(tags=["runs"])

# A long-poll holds a server thread; it answers at the latest after this many seconds.
MAX_WAIT_SECONDS = 20.0
# While it waits it reads the run row: soon at first (news comes in bursts, the next step right
# after the last), then less and less often, so an idle follower costs ~2 reads a second.
FIRST_READ_SECONDS = 0.02
READ_GROWTH = 1.5
LAST_READ_SECONDS = 0.5
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        description="The same key with the same parameters returns the same run (200, not 201)",
    ),
]


def _page_url(request: HttpRequest, name: str, pk: UUID, api_name: str) -> str:
    """Return the object's page, or its API address while no page is installed for it."""
    try:
        path = reverse(name, args=[pk])
    except NoReverseMatch:
        path = reverse(f"api:{api_name}", args=[pk])
    return request.build_absolute_uri(path)


def _runs(caller: Caller) -> QuerySet[Run]:
    return Run.objects.filter(workspace=caller.workspace).select_related(
        "journey_version__journey", "artifact", "environment", "case"
    )


def _run_or_404(caller: Caller, run_id: UUID) -> Run:
    run = _runs(caller).filter(pk=run_id).first()
    if run is None:
        raise ApiError(404, "not_found", f"No run {run_id} in {caller.workspace.name}.")
    return run


def _batch_or_404(caller: Caller, batch_id: UUID) -> RunBatch:
    batch = (
        RunBatch.objects.filter(workspace=caller.workspace, pk=batch_id)
        .select_related("journey_version__journey", "environment", "case")
        .first()
    )
    if batch is None:
        raise ApiError(404, "not_found", f"No batch {batch_id} in {caller.workspace.name}.")
    return batch


def run_out(request: HttpRequest, run: Run) -> dict[str, Any]:
    journey = run.journey_version.journey
    return {
        "id": run.pk,
        "url": _page_url(request, "runs:detail", run.pk, "run_get"),
        "status": run.shown_status,  # a run given back to the queue part-way is queued
        "finished": run.is_finished,
        "journey": journey.slug,
        "journey_name": journey.name,
        "version": run.journey_version.number,
        "artifact_id": run.artifact.artifact_id,
        "environment": run.environment.name,
        "case": run.case.name if run.case else None,
        "inputs": run.inputs,
        "runner_kind": run.runner_kind,
        "runner_labels": run.runner_labels,
        "trigger": run.trigger,
        "step_count": run.step_count,
        "next_step": run.next_step,
        "error_message": run.error_message,
        "batch": run.batch_id,
        "batch_row": run.batch_row,
        "row_name": run.batch_label or None,
        "row_label": run.row_label,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _steps(run: Run, *, start: int = 0) -> list[dict[str, Any]]:
    rows = StepResult.objects.filter(run=run, index__gte=start).order_by("index")
    return [
        {"index": r.index, "step_id": r.step_id, "status": r.status, "evidence": r.evidence}
        for r in rows.only("index", "step_id", "status", "evidence")
    ]


def _dispatch_target(
    caller: Caller, payload: DispatchIn
) -> tuple[JourneyVersion, Environment, Case | None]:
    journey: Journey = journey_by_slug(caller.workspace, payload.journey)
    version = version_of(journey, payload.version)
    environment = match_name(
        payload.environment,
        journey_selectors.environment_list(workspace=caller.workspace),
        name_of=lambda e: e.name,
        what="environment",
    )
    case = None
    if payload.case:
        case = match_name(
            payload.case,
            journey_selectors.case_list(journey=journey, archived=False),
            name_of=lambda c: c.name,
            what="case",
        )
    return version, environment, case


def _refused(error: Exception) -> ApiError:
    if isinstance(error, dispatch.DispatchRefused):
        return ApiError(
            422,
            "run_check_failed",
            "The Run check found errors; nothing was started: "
            + "; ".join(str(i) for i in error.issues[:5]),
            issues=issue_dicts(error.issues),
        )
    if isinstance(error, DefinitionError):
        return ApiError(
            422,
            "run_check_failed",
            "The journey version does not compile: " + "; ".join(str(i) for i in error.issues[:5]),
            issues=issue_dicts(error.issues),
        )
    return ApiError(409, "idempotency_conflict", str(error))


def _trigger(request: HttpRequest) -> Trigger:
    # The reqflo command names itself; in CI it says so (REQFLO_TRIGGER=ci or CI=true).
    said = str(request.headers.get("X-Reqflo-Trigger", "")).lower()
    return {"cli": Trigger.CLI, "ci": Trigger.CI}.get(said, Trigger.API)


def _with_broker_note(response: HttpResponse, broker_error: str | None) -> HttpResponse:
    if broker_error:
        response["X-Reqflo-Broker"] = "unreachable; the run stays queued and starts later"
    return response


DISPATCH_RESPONSES: dict[int, type[Schema]] = {409: ErrorOut, 422: ErrorOut, **ERRORS}


@router.post(
    "/runs",
    response={200: RunOut, 201: RunOut, **DISPATCH_RESPONSES},
    summary="Dispatch a cloud run",
)
def run_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: DispatchIn,
    idempotency_key: IdempotencyKey = "",
) -> Status[dict[str, Any]]:
    """Create a run ``queued`` and nudge a worker; 201 when new, 200 for a replayed key.

    ``case`` and ``environment`` are matched forgivingly; no match answers 400
    ``unknown_case``/``unknown_environment`` listing the choices. A Run check error answers 422
    ``run_check_failed`` with every issue, and nothing is created.
    """
    caller = require(request, Role.EDITOR, action="start runs")
    version, environment, case = _dispatch_target(caller, payload)
    try:
        done = dispatch.run_dispatch(
            workspace=caller.workspace,
            version=version,
            environment=environment,
            case=case,
            inputs=payload.inputs,
            trigger=_trigger(request),
            triggered_by=caller.user,
            idempotency_key=idempotency_key,
            runner=payload.runner,
            runner_labels=payload.runner_labels,
        )
    except (dispatch.DispatchRefused, dispatch.IdempotencyConflict, DefinitionError) as error:
        raise _refused(error) from None
    _with_broker_note(response, done.broker_error)
    return Status(201 if done.created else 200, run_out(request, _run_or_404(caller, done.run.pk)))


@router.get("/runs", response={200: RunPage, **ERRORS}, summary="List runs, newest first")
def run_list(
    request: HttpRequest,
    journey: str = "",
    status: RunStatus | None = None,
    environment: str = "",
    runner_kind: RunnerKind | None = None,
    batch: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str = "",
    limit: Annotated[int, Field(ge=1, le=100)] = 25,
    trigger: str = "",
    repository: str = "",
    ref: str = "",
    commit: str = "",
) -> dict[str, Any]:
    """Page through run history with keyset cursors (``next_cursor``), filtered as the page is."""
    caller = require(request, Role.VIEWER, action="read runs")
    filters = RunFilters(
        journey=journey,
        status=status.value if status else "",
        environment=environment,
        runner_kind=runner_kind.value if runner_kind else "",
        batch=batch,
        since=since,
        until=until,
        trigger=trigger,
        repository=repository,
        ref=ref,
        commit=commit,
    )
    try:
        runs, next_cursor = run_history(
            workspace=caller.workspace, filters=filters, cursor=cursor, limit=limit
        )
    except BadCursor as error:
        raise ApiError(
            400,
            "invalid_request",
            f"cursor: {error}; pass the next_cursor of a previous page.",
            issues=[{"path": "cursor", "code": "invalid_cursor", "message": str(error)}],
        ) from None
    return {"runs": [run_out(request, run) for run in runs], "next_cursor": next_cursor}


@router.get(
    "/runs/{run_id}",
    response={200: RunDetailOut, **ERRORS},
    summary="Get a run with its step results",
    url_name="run_get",
)
def run_get(request: HttpRequest, run_id: UUID) -> dict[str, Any]:
    caller = require(request, Role.VIEWER, action="read runs")
    run = _run_or_404(caller, run_id)
    return {**run_out(request, run), "steps": _steps(run)}


@router.get(
    "/runs/{run_id}/progress",
    response={200: RunDetailOut, **ERRORS},
    summary="Long-poll a run's progress",
)
def run_progress(
    request: HttpRequest,
    run_id: UUID,
    seen_steps: Annotated[int, Field(ge=0, description="step results the client has")] = 0,
    seen_status: Annotated[str, Field(description="the status the client last saw")] = "",
    wait: Annotated[float, Field(ge=0, le=MAX_WAIT_SECONDS, description="seconds")] = 0,
) -> dict[str, Any]:
    """Answer once the run has a step result past ``seen_steps``, a status other than
    ``seen_status``, or has finished; or after ``wait`` seconds with no news.

    ``steps`` holds only the results from index ``seen_steps`` on.
    """
    caller = require(request, Role.VIEWER, action="read runs")
    run = _run_or_404(caller, run_id)
    deadline = time.monotonic() + wait
    pause = FIRST_READ_SECONDS
    while True:
        news = run.next_step > seen_steps or run.shown_status != seen_status or run.is_finished
        left = deadline - time.monotonic()
        if news or left <= 0:
            break
        time.sleep(min(pause, left))
        pause = min(pause * READ_GROWTH, LAST_READ_SECONDS)
        run.refresh_from_db(
            fields=[
                "status",
                "lease_holder",
                "next_step",
                "error_message",
                "started_at",
                "finished_at",
            ]
        )
    return {**run_out(request, run), "steps": _steps(run, start=seen_steps)}


@router.post(
    "/runs/{run_id}/cancel",
    response={200: RunOut, 409: ErrorOut, **ERRORS},
    summary="Cancel a run",
)
def run_cancel(request: HttpRequest, run_id: UUID) -> dict[str, Any]:
    """Cancel a queued run now, a running one before its next request; 409 once finished."""
    caller = require(request, Role.EDITOR, action="cancel runs")
    run = _run_or_404(caller, run_id)
    try:
        dispatch.run_cancel(run=run, by=caller.user)
    except dispatch.NotCancellable as error:
        raise ApiError(409, "not_cancellable", str(error)) from None
    return run_out(request, _run_or_404(caller, run_id))


class ReportFormat(StrEnum):
    JSON = "json"
    JUNIT = "junit"


def _finished_or_409(run: Run) -> None:
    if not run.is_finished:
        raise ApiError(
            409,
            "run_not_finished",
            f"The run is {run.status}; its report exists once it has finished.",
        )


@router.get(
    "/runs/{run_id}/result",
    response={200: dict[str, Any], 409: ErrorOut, **ERRORS},
    summary="Get a finished run as the engine's run result (what reports are made of)",
)
def run_result_get(request: HttpRequest, run_id: UUID) -> dict[str, Any]:
    """Return the ``runs[]`` item of a ``reqflo.report/v1`` document for a finished run.

    The ``reqflo`` command writes its ``--reporter json|junit`` output from this, exactly as
    for a local run. 409 ``run_not_finished`` while the run is unfinished.
    """
    caller = require(request, Role.VIEWER, action="read runs")
    run = _run_or_404(caller, run_id)
    _finished_or_409(run)
    return reports.run_result(run).to_dict()


def _file(description: str, content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI text for a 200 that is a download: its media types (``content``) and meaning."""
    media = {kind: {"schema": schema} for kind, schema in content.items()}
    return {"responses": {200: {"description": description, "content": media}}}


JUNIT = {"type": "string", "description": "JUnit XML (docs/report-format.md)"}
REPORT = {"type": "object", "description": "A reqflo.report/v1 document"}


@router.get(
    "/runs/{run_id}/report",
    response={200: None, 409: ErrorOut, **ERRORS},
    summary="Download a finished run's report (JSON or JUnit XML)",
    openapi_extra=_file(
        "format=json: the JSON report; format=junit: JUnit XML",
        {"application/json": REPORT, "application/xml": JUNIT},
    ),
)
def run_report(
    request: HttpRequest, run_id: UUID, format: ReportFormat = ReportFormat.JSON
) -> HttpResponse:
    caller = require(request, Role.VIEWER, action="read runs")
    run = _run_or_404(caller, run_id)
    _finished_or_409(run)
    if format is ReportFormat.JUNIT:
        return _download(reports.run_junit_report(run), "application/xml", f"run-{run.pk}.xml")
    return _download(reports.run_json_report(run), "application/json", f"run-{run.pk}.json")


@router.get(
    "/runs/{run_id}/evidence",
    response={200: dict[str, Any], **ERRORS},
    summary="Get a run's evidence bundle with its digest chain",
)
def run_evidence(request: HttpRequest, run_id: UUID) -> dict[str, Any]:
    """Return ``reqflo-evidence/1``: the stored step results with their digests and the head.

    ``reqflo runs verify`` checks the chain itself (``reqflo.engine.digest.verify_bundle``),
    trusting nothing the server says about it.
    """
    caller = require(request, Role.VIEWER, action="read runs")
    return run_evidence_bundle(run=_run_or_404(caller, run_id))


@router.get(
    "/runs/{run_id}/verify",
    response={200: VerifyOut, **ERRORS},
    summary="Verify a run's evidence: its digest chain, its facts and the server's seal",
)
def run_verify(request: HttpRequest, run_id: UUID) -> dict[str, Any]:
    """Answer ``verified`` and every problem found (``problems``, sentences; empty when verified).

    The digest chain must hold up to the run's head, the run's recorded status must be the one
    its step results give, and a finished run's seal must match its facts and carry this
    server's signature: a chain and seal recomputed by someone who can write the database fail
    here (docs/runs.md, "What the seal proves"). ``reqflo runs verify RUN_ID`` prints this
    verdict beside its own check of the evidence bundle.
    """
    caller = require(request, Role.VIEWER, action="read runs")
    bundle = run_evidence_bundle(run=_run_or_404(caller, run_id))
    verdict = bundle_verdict(bundle, key=seal_key())
    return {
        "verified": verdict.verified,
        "problems": list(verdict.problems),
        "steps": verdict.check.steps,
        "head": verdict.check.head,
        "signed": verdict.check.signed,
    }


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Batches ------------------------------------------------------------------------------------


def batch_out(request: HttpRequest, batch: RunBatch) -> dict[str, Any]:
    summary = batch_summary(batch=batch)
    children = _runs_of_batch(batch)
    return {
        "id": batch.pk,
        "url": _page_url(request, "runs:batch", batch.pk, "batch_get"),
        "status": summary.status,
        "finished": summary.finished >= summary.total,
        "journey": batch.journey_version.journey.slug,
        "environment": batch.environment.name,
        "case": batch.case.name if batch.case else None,
        "total": summary.total,
        "counts": summary.counts,
        "runs": [run_out(request, run) for run in children],
        "created_at": batch.created_at,
    }


def _runs_of_batch(batch: RunBatch) -> QuerySet[Run]:
    return (
        Run.objects.filter(batch=batch)
        .select_related("journey_version__journey", "artifact", "environment", "case")
        .defer("artifact__plan", "sealed_inputs")
        .order_by("batch_row")
    )


@router.post(
    "/batches",
    response={200: BatchOut, 201: BatchOut, **DISPATCH_RESPONSES},
    summary="Dispatch a data-driven batch: one run per row",
)
def batch_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: BatchIn,
    idempotency_key: IdempotencyKey = "",
) -> Status[dict[str, Any]]:
    """Fan ``rows`` out as child runs; every row passes the Run check before any is created.

    Errors name the row (``rows[3].inputs.quantity``). A retried request with the same key
    completes the same batch and never duplicates a child.
    """
    caller = require(request, Role.EDITOR, action="start runs")
    version, environment, case = _dispatch_target(caller, payload)
    try:
        done = dispatch.batch_dispatch(
            workspace=caller.workspace,
            version=version,
            environment=environment,
            case=case,
            inputs=payload.inputs,
            rows=payload.rows,
            trigger=_trigger(request),
            triggered_by=caller.user,
            idempotency_key=idempotency_key,
            runner=payload.runner,
            runner_labels=payload.runner_labels,
        )
    except (dispatch.DispatchRefused, dispatch.IdempotencyConflict, DefinitionError) as error:
        raise _refused(error) from None
    _with_broker_note(response, done.broker_error)
    batch = _batch_or_404(caller, done.batch.pk)
    return Status(201 if done.created else 200, batch_out(request, batch))


@router.get(
    "/batches/{batch_id}",
    response={200: BatchOut, **ERRORS},
    summary="Get a batch with its runs",
    url_name="batch_get",
)
def batch_get(request: HttpRequest, batch_id: UUID) -> dict[str, Any]:
    caller = require(request, Role.VIEWER, action="read runs")
    return batch_out(request, _batch_or_404(caller, batch_id))


@router.get(
    "/batches/{batch_id}/report",
    response={200: None, **ERRORS},
    summary="Download a batch's combined JUnit XML (its finished runs, a suite per row)",
    openapi_extra=_file("JUnit XML, a test suite per row", {"application/xml": JUNIT}),
)
def batch_report(request: HttpRequest, batch_id: UUID) -> HttpResponse:
    caller = require(request, Role.VIEWER, action="read runs")
    batch = _batch_or_404(caller, batch_id)
    document, _ = reports.batch_junit_report(batch)
    return _download(document, "application/xml", f"batch-{batch.pk}.xml")


@router.post(
    "/batches/{batch_id}/cancel",
    response={200: BatchOut, 409: ErrorOut, **ERRORS},
    summary="Cancel every unfinished run of a batch",
)
def batch_cancel(request: HttpRequest, batch_id: UUID) -> dict[str, Any]:
    caller = require(request, Role.EDITOR, action="cancel runs")
    batch = _batch_or_404(caller, batch_id)
    try:
        dispatch.batch_cancel(batch=batch, by=caller.user)
    except dispatch.NotCancellable as error:
        raise ApiError(409, "not_cancellable", str(error)) from None
    return batch_out(request, _batch_or_404(caller, batch_id))
