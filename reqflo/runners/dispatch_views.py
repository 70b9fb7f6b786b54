"""Run from the editor, re-run and cancel: the pages that start or stop cloud runs.

They sit in runners because they call its dispatch services (``run_dispatch``,
``batch_dispatch``, ``run_rerun``, ``run_cancel``, ``batch_cancel``); what they lead to, the
run and batch pages, are in ``reqflo.runs``. Editors and owners only; another workspace's
journey, run or batch is a 404. Each works as a plain form post and with htmx
(docs/htmx.md): form errors and a refused Run check answer 400 with the panel again.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from reqflo.core.http import (
    FORM_ERROR_STATUS,
    AuthedHttpRequest,
    htmx_partial,
    redirect_to,
    render_page,
)
from reqflo.core.models import Role
from reqflo.engine import Artifact, Issue
from reqflo.engine.errors import errors_only
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.models import Journey, JourneyVersion
from reqflo.journeys.services import build_artifact_for_version
from reqflo.runners.labels import journey_runner_set
from reqflo.runners.run_forms import JourneyRunnerForm, RunForm
from reqflo.runners.services import (
    DispatchRefused,
    IdempotencyConflict,
    NotCancellable,
    batch_cancel,
    batch_dispatch,
    dispatch_check,
    run_cancel,
    run_dispatch,
    run_rerun,
)
from reqflo.runs.access import get_batch_for_user, get_run_for_user
from reqflo.runs.inputs import secret_input_names
from reqflo.runs.models import Trigger

TEMPLATE = "runners/run_new.html"


def _version(journey: Journey, raw: Any) -> JourneyVersion:
    number = journey.head_number
    with contextlib.suppress(TypeError, ValueError):
        number = int(raw) if raw else number
    version = JourneyVersion.objects.filter(journey=journey, number=number).first()
    return version or JourneyVersion.objects.get(journey=journey, number=journey.head_number)


def _panel(
    request: AuthedHttpRequest, journey: Journey, source: Any, files: Any = None
) -> tuple[RunForm, JourneyVersion]:
    version = _version(journey, source.get("version"))
    plan = Artifact.from_json(build_artifact_for_version(version=version).plan).plan
    numbers = list(
        JourneyVersion.objects.filter(journey=journey)
        .order_by("-number")
        .values_list("number", flat=True)
    )
    if files is not None:
        form = RunForm(source, files, version=version, versions=numbers, declared=plan["inputs"])
    else:
        initial = {"version": version.number, **{k: source.get(k) for k in ("environment", "case")}}
        form = RunForm(version=version, versions=numbers, declared=plan["inputs"], initial=initial)
    return form, version


def _check(form: RunForm, version: JourneyVersion) -> list[Issue]:
    """The Run check of what the form holds now (nothing is created)."""
    environment, case, inputs = form.chosen()
    if environment is None:
        return [Issue("error", "no_environment", "environment", "Create an environment first.")]
    if form.errors.get("data_file"):
        return [Issue("error", "data_file", "data file", str(m)) for m in form.errors["data_file"]]
    rows, source = form.data_rows()
    try:
        return dispatch_check(
            workspace=version.journey.workspace,
            version=version,
            environment=environment,
            case=case,
            inputs=inputs,
            rows=rows,
            source=source,
        )
    except ValidationError as exc:
        return [Issue("error", "invalid", f, m) for f, ms in exc.message_dict.items() for m in ms]


def _context(
    journey: Journey,
    form: RunForm,
    version: JourneyVersion,
    issues: list[Issue],
    runner_form: JourneyRunnerForm | None = None,
) -> dict[str, Any]:
    return {
        "journey": journey,
        "runner_form": runner_form or JourneyRunnerForm.of(journey),
        "version": version,
        "form": form,
        "issues": issues,
        "blocking": bool(errors_only(issues)),
        "has_secret_inputs": bool(secret_input_names({"inputs": form.declared})),
        "tab": "editor",
        "can_edit": True,
    }


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """The Run panel: choose version, environment, case, inputs (or a data file), then run.

    GET shows the panel with the Run check of the chosen case; ``op=check`` checks what was
    typed; ``op=run`` dispatches a cloud run (or a batch, with a data file) and lands on it.
    """
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    if request.method != "POST":
        form, version = _panel(request, journey, request.GET)
        context = _context(journey, form, version, _check(form, version))
        return render_page(request, TEMPLATE, context, partial="run-panel")
    form, version = _panel(request, journey, request.POST, request.FILES)
    issues = _check(form, version)
    op = request.POST.get("op", "run")
    if not form.is_valid() or op == "check" or errors_only(issues):
        status = 200 if op == "check" and form.is_valid() else FORM_ERROR_STATUS
        partial = "run-check" if op == "check" and htmx_partial(request) else "run-panel"
        return render_page(
            request,
            TEMPLATE,
            _context(journey, form, version, issues),
            partial=partial,
            status=status,
        )
    data = form.cleaned_data
    try:
        if data["data_file"]:
            batch = batch_dispatch(
                workspace=journey.workspace,
                version=version,
                environment=data["environment"],
                rows=[row.values for row in data["data_file"]],
                case=data["case"],
                inputs=form.overrides(),
                trigger=Trigger.EDITOR,
                triggered_by=request.user,
                **form.route(),
            ).batch
            messages.success(request, f"Started a batch of {batch.row_count} runs.")
            return redirect_to(request, _url("runs:batch", batch_id=batch.pk))
        dispatched = run_dispatch(
            workspace=journey.workspace,
            version=version,
            environment=data["environment"],
            case=data["case"],
            inputs=form.overrides(),
            trigger=Trigger.EDITOR,
            triggered_by=request.user,
            **form.route(),
        )
    except DispatchRefused as refused:
        context = _context(journey, form, version, refused.issues)
        return render_page(
            request, TEMPLATE, context, partial="run-panel", status=FORM_ERROR_STATUS
        )
    except (ValidationError, IdempotencyConflict) as exc:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
        context = _context(journey, form, version, issues)
        return render_page(
            request, TEMPLATE, context, partial="run-panel", status=FORM_ERROR_STATUS
        )
    if dispatched.broker_error:
        messages.warning(
            request,
            "The run is queued, but the broker did not answer; it starts once it does.",
        )
    return redirect_to(request, _url("runs:detail", run_id=dispatched.run.pk))


@login_required
@require_POST
def journey_runner(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Save the journey's default runner (editors); a dispatch that names a runner still wins.

    Errors re-render the form (422) naming the field; success reloads the Run panel.
    """
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    runner_form = JourneyRunnerForm(request.POST)
    if runner_form.is_valid():
        try:
            journey_runner_set(
                journey=journey,
                runner=runner_form.cleaned_data["default_runner"],
                labels=runner_form.cleaned_data["default_runner_labels"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                runner_form.add_error(field, errors)
    if runner_form.errors:
        form, version = _panel(request, journey, {})
        context = _context(journey, form, version, _check(form, version), runner_form)
        return render_page(
            request, TEMPLATE, context, partial="journey-runner", status=FORM_ERROR_STATUS
        )
    messages.success(request, "Saved the journey's default runner.")
    return redirect_to(request, _url("dispatch:new", journey_id=journey.pk))


def _url(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def rerun(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Re-run a run exactly (same artifact, environment, case and inputs) and land on the new one.

    A finished run's secret inputs are not kept: the page asks for them again (password
    fields), and the re-run is refused, naming them, until they are given.
    """
    run = get_run_for_user(request, run_id, min_role=Role.EDITOR, action="re-run runs")
    names = sorted(secret_input_names(Artifact.from_json(run.artifact.plan).plan))
    needed = [n for n in names if not run.sealed_inputs and run.inputs.get(n) is not None]
    context: dict[str, Any] = {"run": run, "needed": needed, "issues": []}
    if request.method != "POST":
        return render_page(request, "runners/run_rerun.html", context, partial="rerun")
    given = {
        n: request.POST.get(f"input_{n}", "") for n in needed if request.POST.get(f"input_{n}")
    }
    try:
        dispatched = run_rerun(
            run=run, by=request.user, trigger=Trigger.EDITOR, secret_inputs=given
        )
    except DispatchRefused as refused:
        context["issues"] = refused.issues
        return render_page(
            request, "runners/run_rerun.html", context, partial="rerun", status=FORM_ERROR_STATUS
        )
    except ValidationError as exc:
        context["issues"] = [Issue("error", "invalid", "", m) for m in exc.messages]
        return render_page(
            request, "runners/run_rerun.html", context, partial="rerun", status=FORM_ERROR_STATUS
        )
    messages.success(request, f"Re-running run {str(run.pk)[:8]}.")
    return redirect_to(request, _url("runs:detail", run_id=dispatched.run.pk))


@login_required
@require_POST
def cancel(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Cancel a queued or running run and go back to its page."""
    run = get_run_for_user(request, run_id, min_role=Role.EDITOR, action="cancel runs")
    try:
        cancelled = run_cancel(run=run, by=request.user)
    except NotCancellable as exc:
        messages.error(request, f"The run was not cancelled: {exc}")
    else:
        messages.success(
            request,
            "Run cancelled before it started."
            if cancelled.is_finished
            else "Cancelling: the worker stops the run before its next request.",
        )
    return redirect_to(request, _url("runs:detail", run_id=run.pk))


@login_required
@require_POST
def cancel_batch(request: AuthedHttpRequest, batch_id: UUID) -> HttpResponse:
    """Cancel every unfinished run of a batch and go back to its page."""
    batch = get_batch_for_user(request, batch_id, min_role=Role.EDITOR, action="cancel batches")
    try:
        batch_cancel(batch=batch, by=request.user)
    except NotCancellable as exc:
        messages.error(request, f"The batch was not cancelled: {exc}")
    else:
        messages.success(request, "Cancelling the batch: runs not yet finished stop.")
    return redirect_to(request, _url("runs:batch", batch_id=batch.pk))
