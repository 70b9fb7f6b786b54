"""The journeys list (search, tags, archived) and creating a journey (blank, sample, import)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, render_page
from reqflo.core.models import Role
from reqflo.engine import DefinitionError, Issue
from reqflo.journeys import services
from reqflo.journeys.access import get_journey_for_user
from reqflo.journeys.documents import check_text
from reqflo.journeys.forms import JourneyCreateForm
from reqflo.journeys.selectors import JourneyFilters, journey_rows, workspace_tags


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
        "journeys": journey_rows(workspace=workspace, filters=filters),
        "filters": filters,
        "tags": workspace_tags(workspace),
        "can_edit": membership.can_edit,
    }
    return render_page(request, "journeys/journey_list.html", context, partial="journey-table")


@login_required
@require_http_methods(["GET", "POST"])
def journey_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.EDITOR, action="create journeys")
    issues: list[Issue] = []
    form = JourneyCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"]
        workspace, author = membership.workspace, request.user
        try:
            if source == "blank":
                name = form.cleaned_data["name"]
                journey = services.journey_create_blank(
                    workspace=workspace, author=author, name=name
                )
            elif source == "sample":
                journey = services.journey_create_from_sample(workspace=workspace, author=author)
            else:
                checked = check_text(form.cleaned_data["text"], source="import")
                journey = services.journey_create_under_free_slug(
                    workspace=workspace, author=author, checked=checked, message="Imported"
                )
                if journey.slug != checked.definition.slug:
                    messages.info(
                        request,
                        f"The slug {checked.definition.slug} was taken: this journey's is "
                        f"{journey.slug}.",
                    )
        except DefinitionError as error:
            # Keep what the user uploaded or pasted in the text box, so nothing is lost.
            data = request.POST.copy()
            data["text"] = form.cleaned_data.get("text", "")
            form = JourneyCreateForm(data)
            if source == "blank":
                # A blank journey's only problem is its name (its slug is made from it): say
                # so under the Name field, the one field that fixes it.
                form.is_valid()
                for issue in error.issues:
                    form.add_error("name", issue.message[:1].upper() + issue.message[1:] + ".")
            else:
                issues = error.issues
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
