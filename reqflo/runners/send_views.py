"""Send in the editor: post the unsaved journey, run one step on the Cloud Runner, show it.

The Send button of a step posts the whole editor form here (htmx) with ``send_step``; the
answer is the Send panel, which polls the run until it ends and then shows the sent step's
response, assertions and outputs. Without JavaScript the post lands on the run's page.
Editors and owners only; another workspace's journey or run is a 404.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reqflo.core.http import (
    FORM_ERROR_STATUS,
    AuthedHttpRequest,
    htmx_partial,
    redirect_to,
    render_page,
    render_poll,
)
from reqflo.core.models import Role
from reqflo.engine import Issue
from reqflo.engine import StepResult as EngineStepResult
from reqflo.journeys import hooks
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.editor import document_from_state, state_from_post
from reqflo.journeys.editor.step_list import sends_key
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.runners.sends import step_send
from reqflo.runners.services import DispatchRefused
from reqflo.runs.access import get_run_for_user
from reqflo.runs.models import Run, StepResult, Trigger

TEMPLATE = "runners/send_panel.html"


def _base_version(journey: Journey, raw: str | None) -> JourneyVersion:
    number = journey.head_number
    with contextlib.suppress(TypeError, ValueError):
        number = int(raw or number)
    version = JourneyVersion.objects.filter(journey=journey, number=number).first()
    return version or JourneyVersion.objects.get(journey=journey, number=journey.head_number)


def _environment(journey: Journey, raw: str | None) -> Environment | None:
    environments = Environment.objects.filter(workspace=journey.workspace, archived=False)
    with contextlib.suppress(ValidationError, ValueError):
        chosen = environments.filter(pk=raw).first() if raw else None
        if chosen is not None:
            return chosen
    return environments.order_by("name").first()


def _refused(request: AuthedHttpRequest, step: str, issues: list[Issue]) -> HttpResponse:
    data = {"issues": issues, "step_label": step, "run": None}
    return render_page(request, TEMPLATE, data, partial="send-panel", status=FORM_ERROR_STATUS)


@login_required
@require_POST
def send(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Send step ``send_step`` of the posted (unsaved) journey on the chosen environment."""
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    try:
        index = int(request.POST.get("send_step", ""))
    except ValueError:
        index = -1
    state = state_from_post(request.POST)
    step = state.steps[index] if 0 <= index < len(state.steps) else None
    label = (step.name or step.id) if step else f"step {index + 1}"
    document, issues = document_from_state(state)
    if issues:
        return _refused(request, label, issues)
    environment = _environment(journey, request.POST.get("check_environment"))
    if environment is None:
        issue = Issue("error", "no_environment", "environment", "Create an environment first.")
        return _refused(request, label, [issue])
    try:
        dispatched = step_send(
            version=_base_version(journey, request.POST.get("base_version")),
            document=document,
            step_index=index,
            environment=environment,
            triggered_by=request.user,
        )
    except DispatchRefused as refused:
        return _refused(request, label, refused.issues)
    except ValidationError as error:
        messages = [(f, m) for f, ms in error.message_dict.items() for m in ms]
        return _refused(request, label, [Issue("error", "invalid", f, m) for f, m in messages])
    if not htmx_partial(request):
        return redirect_to(request, reverse("runs:detail", args=[dispatched.run.pk]))
    return render_page(request, TEMPLATE, _context(dispatched.run), partial="send-panel")


def _why(result: StepResult) -> str:
    """Return why an earlier step of a send did not pass ("" when it passed): its error, its
    failed checks, or why it was skipped, from its (redacted) evidence."""
    if result.status == "passed" or not result.evidence:
        return ""
    step = EngineStepResult.from_dict(result.evidence)
    if step.error is not None:
        return f"{step.error.kind}: {step.error.message}"
    failed = [a.message for a in step.failed_assertions if a.message]
    if failed:
        return "; ".join(failed)
    return step.skip_reason or ""


SHOWN_BEFORE = 10  # earlier steps listed one by one; past that, only those that did not pass
SHOWN_NOT_PASSED = 30


def _shown_before(before: list[StepResult]) -> list[StepResult]:
    """Return the earlier steps the panel lists: all of up to SHOWN_BEFORE; of more, those that
    did not pass (at most SHOWN_NOT_PASSED) and the last one, in order. The others passed and
    are counted, not listed: sending step 1,500 listed 1,499 "Passed" lines (119 KB)."""
    if len(before) <= SHOWN_BEFORE:
        return before
    last = before[-1]
    shown = [r for r in before if r.status != "passed" and r is not last][:SHOWN_NOT_PASSED]
    return [*shown, last]


def _context(run: Run) -> dict[str, Any]:
    results = list(StepResult.objects.filter(run=run).order_by("index"))
    sent_index = run.step_count - 1
    sent = next((r for r in results if r.index == sent_index), None)
    evidence = EngineStepResult.from_dict(sent.evidence) if sent else None
    for result in results:
        result.why = _why(result)  # type: ignore[attr-defined]
    before = [r for r in results if r.index < sent_index]
    shown = _shown_before(before)
    return {
        "run": run,
        "before": before,  # every one: the editor's list marks each (out of band)
        "before_shown": shown,
        "before_passed_hidden": len(before) - len(shown),
        "sent": sent,
        "evidence": evidence,
        "final": evidence.final if evidence else None,
        "step_label": (evidence.name or evidence.step_id) if evidence else "",
        "issues": [],
        # The editor's list now marks these sends (the panel updates the marks out of band):
        # its next answer then carries only the items that changed (journeys.editor.step_list).
        "list_sends": _list_sends(run),
    }


def _list_sends(run: Run) -> str:
    """Return the fingerprint of the sends the editor's list marks once ``run`` ended, or ""."""
    if not run.is_finished:
        return ""
    return sends_key(hooks.send_statuses(run.journey_version.journey))


@login_required
@require_GET
def send_panel(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """The Send panel of a send run: polled while it runs, final once it ended (286)."""
    run = get_run_for_user(request, run_id, min_role=Role.EDITOR, action="send steps")
    if run.trigger != Trigger.SEND:
        return redirect_to(request, reverse("runs:detail", args=[run.pk]))
    return render_poll(
        request, TEMPLATE, _context(run), partial="send-panel", finished=run.is_finished
    )
