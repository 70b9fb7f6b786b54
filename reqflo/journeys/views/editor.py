"""The journey editor: form view and YAML view of one definition, Run check, suggestions, save.

Every editor button posts the whole form. The server rebuilds the state from the fields,
applies the button (add a step, move it, switch to YAML…) and renders the editor again, so the
page works without JavaScript; with htmx the ``#editor`` partial is swapped, or, for a page that
stays in the form view, the step's form and the other parts a button changes (out of band), and
of the step list only the items that changed (``editor.step_list``: the page keeps its list).
Nothing is stored until Save, which names the version the user started from (``base_version``): if
someone saved since, the save is refused and the page shows what they changed.

The view is the database side only: the page model and the button dispatch are the pure
``reqflo.journeys.editor.page.editor_post`` (request data in, outcome out).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from reqflo.core.access import current_membership
from reqflo.core.http import AuthedHttpRequest, htmx_partial, redirect_to, render_page
from reqflo.core.models import Role
from reqflo.engine import Definition, DefinitionError, Issue
from reqflo.journeys import editor, hooks, services
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.checks import registered_run_check_issues
from reqflo.journeys.diffs import diff_documents
from reqflo.journeys.documents import CheckedDocument
from reqflo.journeys.editor import step_list
from reqflo.journeys.editor.page import (
    CHECK_KEY_FIELD,
    CONFLICT,
    FORM_ERRORS,
    CheckContext,
    EditorPage,
    check_key,
    editor_post,
    fill_check,
    issue_views,
    page_for_version,
    posted_page,
    step_rows,
)
from reqflo.journeys.models import Environment, Journey
from reqflo.journeys.scope import filter_suggestions, references_in_scope
from reqflo.journeys.selectors import environment_list

TEMPLATE = "journeys/journey_editor.html"
_STEP_FIELD = re.compile(r"^steps-(\d+)-")
# The client event of a save that went through (``static/js/editor.js``: no unsaved edits).
SAVED_EVENT = "reqflo:saved"


class _WorkspaceContext:
    """The Run check's ``CheckContext``: each part loaded once per request, on first use."""

    def __init__(self, journey: Journey) -> None:
        self.workspace = journey.workspace

    @cached_property
    def environments(self) -> list[Environment]:
        return list(environment_list(workspace=self.workspace))

    @cached_property
    def secret_names(self) -> frozenset[str]:
        return hooks.secret_names(self.workspace)

    def extra_checks(self, definition: Definition) -> list[Issue]:
        """Return the Cloud Runner's issues (its limits on timeouts and retries, registered)."""
        return registered_run_check_issues(workspace=self.workspace, definition=definition)


def _check_context(journey: Journey) -> CheckContext:
    return _WorkspaceContext(journey)


_CHOSEN = "editor_environments"  # session key: journey id -> the environment picked last
_CHOSEN_KEPT = 50


def _environment_choice(request: AuthedHttpRequest, journey: Journey) -> str | None:
    """Return the id of the Run check's (and Send's) environment for ``journey``: the one
    posted, remembered per journey in the session, else the one picked last (so a save or a
    reload does not go back to the first environment by name)."""
    chosen: dict[str, str] = dict(request.session.get(_CHOSEN) or {})
    key = str(journey.pk)
    wanted = request.POST.get("check_environment", "")[:64] if request.method == "POST" else ""
    if not wanted:
        return chosen.get(key)
    if chosen.get(key) != wanted:
        chosen.pop(key, None)
        chosen[key] = wanted
        while len(chosen) > _CHOSEN_KEPT:  # the oldest choices go first
            chosen.pop(next(iter(chosen)))
        request.session[_CHOSEN] = chosen
    return wanted


def _render(
    request: AuthedHttpRequest,
    journey: Journey,
    page: EditorPage,
    context: CheckContext,
    *,
    status: int = 200,
    saved: bool = False,
) -> HttpResponse:
    statuses = hooks.send_statuses(journey) if page.mode == "form" else {}
    rows = step_rows(page.state, statuses) if page.mode == "form" else []
    # Only the selected step's form is on the page; the others ride in steps-packed.
    selected_row = rows[page.selected] if rows else None
    can_edit = current_membership(request).can_edit
    data: dict[str, Any] = {
        "journey": journey,
        "page": page,
        "step_rows": rows,
        "selected_row": selected_row,
        "sends_key": step_list.sends_key(statuses),
        "list_patch": None,
        "environments": context.environments,
        "check_key": check_key(page, context.environments),
        "can_edit": can_edit,
        "saved": saved,
        "methods": editor.METHODS,
        "assertion_types": editor.ASSERTION_TYPES,
        "operators": editor.OPERATOR_CHOICES,
        "body_kinds": editor.BODY_KINDS,
        "output_sources": editor.OUTPUT_SOURCES,
    }
    if page.mode == "form" and page.shown is not None and htmx_partial(request):
        # The page shows the form view and stays in it: swap the step's form, send the other
        # parts out of band, and of the step list only the items that changed.
        data["list_patch"] = step_list.list_patch(
            page.shown,
            page.shown_selected,
            rows,
            selected_row,
            statuses,
            same_sends=request.POST.get(step_list.SENDS_FIELD) == data["sends_key"],
            can_edit=can_edit,
        )
        # The Run check card travels only when it would differ from the one on screen.
        data["same_check"] = request.POST.get(CHECK_KEY_FIELD) == data["check_key"]
        response = render(request, TEMPLATE + "#editor-answer", data, status=status)
        return reswap(retarget(response, "#step-details"), "outerHTML")
    return render_page(request, TEMPLATE, data, partial="editor", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def journey_editor(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    if request.method == "POST":
        journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
        context = _check_context(journey)
        _environment_choice(request, journey)
        outcome = editor_post(request.POST, context)
        if outcome.save is not None:
            return _save(request, journey, outcome.page, outcome.save, context)
        return _render(request, journey, outcome.page, context, status=outcome.status)
    journey = get_journey_for_user(request, journey_id)
    head = journey.head
    assert head is not None, "every journey has a version from its creation on"
    page = page_for_version(
        head.document,
        head.number,
        yaml=request.GET.get("view") == "yaml",
        step=request.GET.get("step"),
        aliases=head.step_aliases,
    )
    context = _check_context(journey)
    fill_check(page, context, _environment_choice(request, journey))
    return _render(request, journey, page, context)


def _save(
    request: AuthedHttpRequest,
    journey: Journey,
    page: EditorPage,
    checked: CheckedDocument,
    context: CheckContext,
) -> HttpResponse:
    try:
        version = services.journey_version_create(
            journey=journey,
            author=request.user,
            checked=checked,
            base_number=page.base_number,
            message=page.message,
            # The form knows which steps were renamed; the YAML view does not (None: kept).
            step_aliases=(
                editor.step_aliases(page.state.steps, hooks.send_statuses(journey))
                if page.mode == "form"
                else None
            ),
        )
    except services.VersionConflict as conflict:
        # Offer the diff and let the user decide: the next save is based on the newer version.
        page.conflict = conflict.head
        page.conflict_diff = diff_documents(conflict.head.document, checked.document)
        page.base_number = conflict.head.number
        fill_check(page, context, request.POST.get("check_environment"))
        return _render(request, journey, page, context, status=CONFLICT)
    except DefinitionError as error:
        yaml_text = page.yaml_text if page.mode == "yaml" else None
        page.issues = issue_views(error.issues, page.state, yaml_text=yaml_text)
        fill_check(page, context, request.POST.get("check_environment"))
        return _render(request, journey, page, context, status=FORM_ERRORS)
    if version is None:
        messages.info(request, f"No changes: v{journey.head_number} is still the latest version.")
    else:
        messages.success(request, f"Saved v{version.number}.")
    if not htmx_partial(request):
        # Without JavaScript: back to the view and the step being edited.
        url = reverse("journeys:journey_editor", args=[journey.pk])
        url += "?view=yaml" if page.mode == "yaml" else f"?step={page.selected}"
        return redirect_to(request, url)
    # With htmx a save is answered like any other button: the page of the version now latest
    # (what a reload would show), the step list patched from the one on screen, the header
    # (name, version) out of band, and an explicit signal that the edits are saved.
    saved = version or journey.head
    assert saved is not None, "every journey has a version from its creation on"
    fresh = page_for_version(
        saved.document,
        saved.number,
        yaml=page.mode == "yaml",
        step=str(page.selected),
        aliases=saved.step_aliases,
    )
    fresh.shown, fresh.shown_selected = page.shown, page.shown_selected
    fill_check(fresh, context, request.POST.get("check_environment"))
    response = _render(request, journey, fresh, context, saved=True)
    return trigger_client_event(response, SAVED_EVENT)


# --- htmx helpers: Run check panel and reference suggestions -------------------------------------


@login_required
@require_POST
def journey_check(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Return the Run check card for the posted (unsaved) editor content."""
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    context = _check_context(journey)
    page = posted_page(request.POST)
    fill_check(page, context, _environment_choice(request, journey))
    data = {
        "journey": journey,
        "page": page,
        "environments": context.environments,
        "check_key": check_key(page, context.environments),
        "can_edit": True,
    }
    return render(request, TEMPLATE + "#run-check", data)


@login_required
@require_POST
def journey_suggest(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Return the references in scope for the field being typed in, filtered by its prefix."""
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    context = _check_context(journey)
    state = editor.state_from_post(request.POST)
    match = _STEP_FIELD.match(request.POST.get("suggest_field", ""))
    env_names: set[str] = set()
    for environment in context.environments:
        env_names.update(environment.values)
    suggestions = references_in_scope(
        state,
        step_index=int(match.group(1)) if match else None,
        env_names=env_names,
        secret_names=context.secret_names,
    )
    data = {
        "suggestions": filter_suggestions(suggestions, request.POST.get("prefix", ""))[:30],
        "field": request.POST.get("suggest_field", ""),
    }
    return render(request, TEMPLATE + "#suggestions", data)
