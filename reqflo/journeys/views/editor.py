"""The journey editor: form view and YAML view of one definition, Run check, suggestions, save.

Every editor button posts the whole form. The server rebuilds the state from the fields,
applies the button (add a step, move it, switch to YAML…) and renders the editor again, so the
page works without JavaScript; with htmx only the ``#editor`` partial is swapped. Nothing is
stored until Save, which names the version the user started from (``base_version``): if
someone saved since, the save is refused and the page shows what they changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from reqflo.core.access import current_membership
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, redirect_to, render_page
from reqflo.core.models import Role
from reqflo.engine import DefinitionError, Issue, run_check
from reqflo.journeys import editor, hooks, services
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.checks import registered_run_check_issues
from reqflo.journeys.diffs import DocumentDiff, diff_documents
from reqflo.journeys.documents import (
    CheckedDocument,
    check_document,
    check_text,
    render_yaml,
    yaml_lines,
)
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.journeys.scope import filter_suggestions, references_in_scope
from reqflo.journeys.selectors import environment_list

TEMPLATE = "journeys/journey_editor.html"
_STEP_FIELD = re.compile(r"^steps-(\d+)-")


@dataclass
class IssueView:
    """An issue as the page shows it: words, path, and the field (or YAML line) to jump to."""

    severity: str
    path: str
    message: str
    anchor: str
    line: int | None = None


@dataclass
class EditorPage:
    """Everything the editor template needs besides the journey."""

    mode: str  # "form" or "yaml"
    base_number: int
    state: editor.EditorState
    yaml_text: str = ""
    issues: list[IssueView] = field(default_factory=list)
    check: list[IssueView] | None = None
    check_environment: Environment | None = None
    conflict: JourneyVersion | None = None
    conflict_diff: DocumentDiff | None = None
    message: str = ""


@dataclass(frozen=True)
class StepRow:
    """One step as the template loops over it, with indexes as text.

    Django localises every integer it prints; with thousands of fields on a 200-step journey
    that alone cost a third of the page's time, so indexes arrive as strings.
    """

    i: str
    number: str
    step: editor.StepForm
    first: bool
    last: bool
    assertions: list[tuple[str, str, editor.AssertionRow]]  # (index, 1-based number, row)
    outputs: list[tuple[str, editor.OutputRow]]


def _step_rows(state: editor.EditorState) -> list[StepRow]:
    last = len(state.steps) - 1
    return [
        StepRow(
            i=str(index),
            number=str(index + 1),
            step=step,
            first=index == 0,
            last=index == last,
            assertions=[(str(j), str(j + 1), row) for j, row in enumerate(step.assertions)],
            outputs=[(str(j), row) for j, row in enumerate(step.outputs)],
        )
        for index, step in enumerate(state.steps)
    ]


def _issue_views(
    issues: list[Issue], state: editor.EditorState | None, *, yaml_text: str | None = None
) -> list[IssueView]:
    """Point each issue at its form field, or at its line when the page shows YAML."""
    if yaml_text is not None:
        lines = yaml_lines(yaml_text, [issue.path for issue in issues if issue.path])
        return [
            IssueView(issue.severity, issue.path, issue.message, "yaml-text", lines.get(issue.path))
            for issue in issues
        ]
    return [
        IssueView(issue.severity, issue.path, issue.message, editor.issue_anchor(issue.path, state))
        for issue in issues
    ]


def _environments(journey: Journey) -> list[Environment]:
    return list(environment_list(workspace=journey.workspace))


def _check_environment(environments: list[Environment], wanted: str | None) -> Environment | None:
    for environment in environments:
        if str(environment.pk) == wanted:
            return environment
    return environments[0] if environments else None


def _run_check(
    journey: Journey,
    checked: CheckedDocument,
    environment: Environment | None,
    yaml_text: str | None = None,
) -> list[IssueView]:
    issues = run_check(
        checked.definition,
        environment=environment.as_mapping() if environment else None,
        secret_names=hooks.secret_names(journey.workspace),
    )
    # As run on the Cloud Runner: its limits on timeouts and retries (registered by runners).
    issues += registered_run_check_issues(
        workspace=journey.workspace, definition=checked.definition
    )
    return _issue_views(issues, None, yaml_text=yaml_text)


def _head(journey: Journey) -> JourneyVersion:
    return JourneyVersion.objects.get(journey=journey, number=journey.head_number)


def _render(
    request: AuthedHttpRequest, journey: Journey, page: EditorPage, *, status: int = 200
) -> HttpResponse:
    environments = _environments(journey)
    if page.check is None:
        page.check_environment = _check_environment(
            environments, request.POST.get("check_environment")
        )
        page.check = _current_check(journey, page)
    context: dict[str, Any] = {
        "journey": journey,
        "page": page,
        "step_rows": _step_rows(page.state) if page.mode == "form" else [],
        "environments": environments,
        "can_edit": current_membership(request).can_edit,
        "methods": editor.METHODS,
        "assertion_types": editor.ASSERTION_TYPES,
        "operators": editor.OPERATOR_CHOICES,
        "body_kinds": editor.BODY_KINDS,
        "output_sources": editor.OUTPUT_SOURCES,
    }
    return render_page(request, TEMPLATE, context, partial="editor", status=status)


def _current_check(journey: Journey, page: EditorPage) -> list[IssueView]:
    """Run the check on what the page shows; problems found while reading come first."""
    if page.issues:
        return []
    yaml_text = page.yaml_text if page.mode == "yaml" else None
    try:
        if yaml_text is not None:
            checked = check_text(yaml_text)
        else:
            document, issues = editor.document_from_state(page.state)
            if issues:
                return _issue_views(issues, page.state)
            checked = check_document(document)
    except DefinitionError as error:
        return _issue_views(error.issues, page.state, yaml_text=yaml_text)
    return _run_check(journey, checked, page.check_environment, yaml_text)


@login_required
@require_http_methods(["GET", "POST"])
def journey_editor(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    if request.method == "POST":
        return _editor_post(
            request, get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
        )
    journey = get_journey_for_user(request, journey_id)
    head = _head(journey)
    mode = "yaml" if request.GET.get("view") == "yaml" else "form"
    page = EditorPage(
        mode=mode,
        base_number=head.number,
        state=editor.state_from_document(head.document),
        yaml_text=render_yaml(head.document) if mode == "yaml" else "",
    )
    return _render(request, journey, page)


def _base_number(request: AuthedHttpRequest) -> int:
    try:
        return int(request.POST.get("base_version", ""))
    except ValueError:
        return -1


def _editor_post(request: AuthedHttpRequest, journey: Journey) -> HttpResponse:
    operation = request.POST.get("op", "save")
    base = _base_number(request)
    message = request.POST.get("message", "")[:300]
    if request.POST.get("mode") == "yaml":
        text = request.POST.get("yaml", "").replace("\r\n", "\n")
        page = EditorPage(mode="yaml", base_number=base, state=editor.EditorState(), yaml_text=text)
        page.message = message
        if operation == "view_form":
            return _yaml_to_form(request, journey, page)
        if operation != "save":
            return _render(request, journey, page)
        try:
            checked = check_text(text)
        except DefinitionError as error:
            page.issues = _issue_views(error.issues, None, yaml_text=text)
            return _render(request, journey, page, status=FORM_ERROR_STATUS)
        return _save(request, journey, page, checked)

    state = editor.state_from_post(request.POST)
    page = EditorPage(mode="form", base_number=base, state=state, message=message)
    if operation == "save" or operation == "view_yaml":
        document, issues = editor.document_from_state(state)
        if issues:
            page.issues = _issue_views(issues, state)
            return _render(request, journey, page, status=FORM_ERROR_STATUS)
        if operation == "view_yaml":
            page.mode, page.yaml_text = "yaml", render_yaml(document)
            return _render(request, journey, page)
        try:
            checked = check_document(document)
        except DefinitionError as error:
            page.issues = _issue_views(error.issues, state)
            return _render(request, journey, page, status=FORM_ERROR_STATUS)
        return _save(request, journey, page, checked)
    editor.apply_operation(state, operation)
    return _render(request, journey, page)


def _yaml_to_form(request: AuthedHttpRequest, journey: Journey, page: EditorPage) -> HttpResponse:
    """Switch to the form view; YAML that does not parse stays on screen with its error."""
    try:
        check_text(page.yaml_text)
    except DefinitionError as error:
        syntax = [i for i in error.issues if i.code in ("yaml_syntax", "json_syntax", "too_large")]
        if syntax:
            page.issues = _issue_views(syntax, None, yaml_text=page.yaml_text)
            return _render(request, journey, page, status=FORM_ERROR_STATUS)
    document = yaml.safe_load(page.yaml_text)
    page.mode = "form"
    page.state = editor.state_from_document(document if isinstance(document, dict) else {})
    return _render(request, journey, page)


def _save(
    request: AuthedHttpRequest, journey: Journey, page: EditorPage, checked: CheckedDocument
) -> HttpResponse:
    try:
        version = services.journey_version_create(
            journey=journey,
            author=request.user,
            checked=checked,
            base_number=page.base_number,
            message=page.message,
        )
    except services.VersionConflict as conflict:
        # Offer the diff and let the user decide: the next save is based on the newer version.
        page.conflict = conflict.head
        page.conflict_diff = diff_documents(conflict.head.document, checked.document)
        page.base_number = conflict.head.number
        return _render(request, journey, page, status=409)
    except DefinitionError as error:
        yaml_text = page.yaml_text if page.mode == "yaml" else None
        page.issues = _issue_views(error.issues, page.state, yaml_text=yaml_text)
        return _render(request, journey, page, status=FORM_ERROR_STATUS)
    if version is None:
        messages.info(request, f"No changes: v{journey.head_number} is still the latest version.")
    else:
        messages.success(request, f"Saved v{version.number}.")
    url = reverse("journeys:journey_editor", args=[journey.pk])
    if page.mode == "yaml":
        url += "?view=yaml"
    return redirect_to(request, url)


# --- htmx helpers: Run check panel and reference suggestions -------------------------------------


def _posted_page(request: AuthedHttpRequest) -> EditorPage:
    if request.POST.get("mode") == "yaml":
        return EditorPage(
            mode="yaml",
            base_number=_base_number(request),
            state=editor.EditorState(),
            yaml_text=request.POST.get("yaml", ""),
        )
    return EditorPage(
        mode="form", base_number=_base_number(request), state=editor.state_from_post(request.POST)
    )


@login_required
@require_POST
def journey_check(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Return the Run check panel for the posted (unsaved) editor content."""
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    page = _posted_page(request)
    page.check_environment = _check_environment(
        _environments(journey), request.POST.get("check_environment")
    )
    page.check = _current_check(journey, page)
    context = {
        "journey": journey,
        "page": page,
        "environments": _environments(journey),
        "can_edit": True,
    }
    return render(request, TEMPLATE + "#run-check", context)


@login_required
@require_POST
def journey_suggest(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    """Return the references in scope for the field being typed in, filtered by its prefix."""
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    state = editor.state_from_post(request.POST)
    match = _STEP_FIELD.match(request.POST.get("suggest_field", ""))
    env_names: set[str] = set()
    for environment in _environments(journey):
        env_names.update(environment.values)
    suggestions = references_in_scope(
        state,
        step_index=int(match.group(1)) if match else None,
        env_names=env_names,
        secret_names=hooks.secret_names(journey.workspace),
    )
    context = {
        "suggestions": filter_suggestions(suggestions, request.POST.get("prefix", ""))[:30],
        "field": request.POST.get("suggest_field", ""),
    }
    return render(request, TEMPLATE + "#suggestions", context)
