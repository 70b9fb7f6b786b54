"""The journeys list (search, tags, archived) and creating a journey (blank, sample, import)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, render_page
from reqflo.core.models import Role, Workspace
from reqflo.engine import DefinitionError, Issue
from reqflo.journeys import services
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.documents import CheckedDocument, check_document, check_text
from reqflo.journeys.editor import EditorState, document_from_state, new_step
from reqflo.journeys.forms import JourneyCreateForm
from reqflo.journeys.selectors import JourneyFilters, free_journey_slug, workspace_tags
from reqflo.journeys.selectors import journey_list as select_journeys

SAMPLE_PATH = Path(settings.BASE_DIR) / "examples" / "checkout.yaml"


@login_required
@require_GET
def journey_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="see journeys")
    workspace = membership.workspace
    filters = JourneyFilters(
        search=request.GET.get("q", "")[:100],
        tag=request.GET.get("tag", "")[:60],
        archived=request.GET.get("archived") == "1",
    )
    context = {
        "journeys": select_journeys(workspace=workspace, filters=filters),
        "filters": filters,
        "tags": workspace_tags(workspace),
        "can_edit": membership.can_edit,
    }
    return render_page(request, "journeys/journey_list.html", context, partial="journey-table")


def _blank_document(name: str) -> dict[str, Any]:
    state = EditorState(name=name.strip())
    state.steps.append(new_step(state))
    document, _ = document_from_state(state)
    return document


def _sample(workspace: Workspace) -> CheckedDocument:
    """Return the demo sample, renamed "Checkout flow (2)" (slug ``checkout-2``) if it is taken.

    The demo workspace already holds the sample, and trying it twice is what people do.
    """
    checked = check_text(SAMPLE_PATH.read_text(encoding="utf-8"), source=SAMPLE_PATH.name)
    slug = free_journey_slug(workspace=workspace, slug=checked.definition.slug)
    if slug == checked.definition.slug:
        return checked
    document = copy.deepcopy(checked.document)
    document["journey"]["name"] = f"{checked.definition.name} ({slug.rsplit('-', 1)[1]})"
    document["journey"]["slug"] = slug
    return check_document(document)


@login_required
@require_http_methods(["GET", "POST"])
def journey_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.EDITOR, action="create journeys")
    issues: list[Issue] = []
    form = JourneyCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"]
        try:
            if source == "blank":
                checked = check_document(_blank_document(form.cleaned_data["name"]))
            elif source == "sample":
                checked = _sample(membership.workspace)
            else:
                checked = check_text(form.cleaned_data["text"], source="import")
            journey = services.journey_create(
                workspace=membership.workspace,
                author=request.user,
                checked=checked,
                message="Imported" if source == "import" else "Created",
            )
        except DefinitionError as error:
            issues = error.issues
            # Keep what the user uploaded or pasted in the text box, so nothing is lost.
            data = request.POST.copy()
            data["text"] = form.cleaned_data.get("text", "")
            form = JourneyCreateForm(data)
        else:
            messages.success(request, f"Created {journey.name} (v1).")
            return redirect("journeys:journey_editor", journey.pk)
    status = FORM_ERROR_STATUS if request.method == "POST" else 200
    return render(
        request, "journeys/journey_create.html", {"form": form, "issues": issues}, status=status
    )


@login_required
@require_POST
def journey_archive(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    archived = request.POST.get("archived") != "0"
    services.journey_set_archived(journey=journey, archived=archived)
    messages.success(request, f"{'Archived' if archived else 'Restored'} {journey.name}.")
    return redirect("journeys:journey_editor", journey.pk)
