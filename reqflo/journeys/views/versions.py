"""Version history: the list, one version read-only, a diff of any two, restore and export."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from reqflo.core.access import current_membership
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Role
from reqflo.journeys import services
from reqflo.journeys.access import get_journey_for_user, get_version_for_user
from reqflo.journeys.diffs import diff_documents, step_outline
from reqflo.journeys.documents import render_yaml
from reqflo.journeys.selectors import version_get, version_import_report, version_list


@login_required
@require_GET
def journey_history(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    journey = get_journey_for_user(request, journey_id)
    versions = list(version_list(journey=journey))
    context = {
        "journey": journey,
        "versions": versions,
        "can_edit": current_membership(request).can_edit,
        "default_from": versions[1].number if len(versions) > 1 else journey.head_number,
        "default_to": journey.head_number,
    }
    return render(request, "journeys/journey_history.html", context)


@login_required
@require_GET
def version_detail(request: AuthedHttpRequest, journey_id: UUID, number: int) -> HttpResponse:
    version = get_version_for_user(request, journey_id, number)
    context = {
        "journey": version.journey,
        "version": version,
        "outline": step_outline(version.document),
        "yaml": render_yaml(version.document),
        "can_edit": current_membership(request).can_edit,
        "import_report": version_import_report(version=version),
    }
    return render(request, "journeys/version_detail.html", context)


@login_required
@require_GET
def version_export(request: AuthedHttpRequest, journey_id: UUID, number: int) -> HttpResponse:
    version = get_version_for_user(request, journey_id, number)
    response = HttpResponse(render_yaml(version.document), content_type="application/yaml")
    filename = f"{version.journey.slug}-v{version.number}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _number(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@login_required
@require_GET
def version_diff(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    journey = get_journey_for_user(request, journey_id)
    head = journey.head_number
    old_number = _number(request.GET.get("from"), max(head - 1, 1))
    new_number = _number(request.GET.get("to"), head)
    old = version_get(journey=journey, number=old_number)
    new = version_get(journey=journey, number=new_number)
    if old is None or new is None:
        raise Http404("No such version.")
    context = {
        "journey": journey,
        "old": old,
        "new": new,
        "diff": diff_documents(old.document, new.document),
        "numbers": range(head, 0, -1),
    }
    return render(request, "journeys/version_diff.html", context)


@login_required
@require_POST
def version_restore(request: AuthedHttpRequest, journey_id: UUID, number: int) -> HttpResponse:
    version = get_version_for_user(request, journey_id, number, min_role=Role.EDITOR)
    journey = version.journey
    base = _number(request.POST.get("base_version"), -1)
    try:
        restored = services.journey_version_restore(
            journey=journey, version=version, author=request.user, base_number=base
        )
    except services.VersionConflict as conflict:
        messages.error(
            request,
            f"Not restored: v{conflict.head.number} was saved since you opened this page. "
            "Check the latest version, then restore again.",
        )
        return redirect("journeys:journey_history", journey.pk)
    if restored is None:
        messages.info(request, f"v{number} is the same as the latest version; nothing to restore.")
    else:
        messages.success(request, f"Restored v{number} as v{restored.number}.")
    return redirect("journeys:journey_history", journey.pk)
