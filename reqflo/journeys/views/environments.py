"""Environments: everyone reads them; owners create, edit, rename, archive and delete them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest
from reqflo.core.models import Role
from reqflo.journeys import services
from reqflo.journeys.access import get_environment_for_user
from reqflo.journeys.forms import EnvironmentForm
from reqflo.journeys.selectors import environment_list as select_environments


def _apply_errors(form: EnvironmentForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def environment_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="see environments")
    form = None
    status = 200
    if request.method == "POST":
        membership = require_role(request, Role.OWNER, action="manage environments")
        form = EnvironmentForm(request.POST)
        if form.is_valid():
            try:
                environment = services.environment_create(
                    workspace=membership.workspace, **form.cleaned_data
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, f"Created environment {environment.name}.")
                return redirect("journeys:environment_list")
        status = FORM_ERROR_STATUS
    context: dict[str, Any] = {
        "environments": select_environments(workspace=membership.workspace, archived=None),
        "is_owner": membership.is_owner,
        "form": form or EnvironmentForm(),
    }
    return render(request, "journeys/environment_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def environment_edit(request: AuthedHttpRequest, environment_id: UUID) -> HttpResponse:
    environment = get_environment_for_user(request, environment_id, min_role=Role.OWNER)
    initial = {
        "name": environment.name,
        "base_url": environment.base_url,
        "values": environment.values,
    }
    form = EnvironmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.environment_update(environment=environment, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Saved environment {environment.name}.")
            return redirect("journeys:environment_list")
    status = FORM_ERROR_STATUS if request.method == "POST" else 200
    return render(
        request,
        "journeys/environment_edit.html",
        {"environment": environment, "form": form},
        status=status,
    )


@login_required
@require_POST
def environment_archive(request: AuthedHttpRequest, environment_id: UUID) -> HttpResponse:
    environment = get_environment_for_user(request, environment_id, min_role=Role.OWNER)
    archived = request.POST.get("archived") != "0"
    services.environment_set_archived(environment=environment, archived=archived)
    messages.success(request, f"{'Archived' if archived else 'Restored'} {environment.name}.")
    return redirect("journeys:environment_list")


@login_required
@require_POST
def environment_delete(request: AuthedHttpRequest, environment_id: UUID) -> HttpResponse:
    environment = get_environment_for_user(request, environment_id, min_role=Role.OWNER)
    try:
        removal = services.environment_delete(environment=environment)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("journeys:environment_list")
    if removal == "archived":
        messages.info(
            request,
            f"{environment.name} was used by runs, so it was archived instead of deleted: "
            "run history keeps its meaning.",
        )
    else:
        messages.success(request, f"Deleted environment {environment.name}.")
    return redirect("journeys:environment_list")
