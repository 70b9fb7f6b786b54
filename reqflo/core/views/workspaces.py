"""Home, the list of the user's workspaces, creating one and switching between them."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reqflo.core import services
from reqflo.core.access import (
    activate_workspace,
    current_membership,
    get_workspace_for_user,
)
from reqflo.core.forms import WorkspaceForm
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, redirect_to
from reqflo.core.navigation import nav_links
from reqflo.core.selectors import members_of_workspace, memberships_of_user


@require_GET
@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    return render(
        request,
        "core/home.html",
        {
            "membership": membership,
            "member_count": members_of_workspace(membership.workspace).count(),
            "links": nav_links(membership),
        },
    )


def _workspace_list_page(
    request: AuthedHttpRequest, form: WorkspaceForm, *, status: int = 200
) -> HttpResponse:
    context = {"memberships": memberships_of_user(request.user), "form": form}
    return render(request, "core/workspace_list.html", context, status=status)


@require_GET
@login_required
def workspace_list(request: AuthedHttpRequest) -> HttpResponse:
    return _workspace_list_page(request, WorkspaceForm())


@require_POST
@login_required
def workspace_create(request: AuthedHttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST)
    if not form.is_valid():
        return _workspace_list_page(request, form, status=FORM_ERROR_STATUS)
    workspace = services.workspace_create(name=form.cleaned_data["name"], owner=request.user)
    activate_workspace(request, workspace.memberships.get(user=request.user))
    messages.success(request, f"Created {workspace}. You are its owner.")
    return redirect("core:home")


@require_POST
@login_required
def workspace_switch(request: AuthedHttpRequest, workspace_id: UUID) -> HttpResponse:
    workspace = get_workspace_for_user(request, workspace_id)
    activate_workspace(request, workspace.memberships.get(user=request.user))
    messages.success(request, f"Switched to {workspace}.")
    # Home, not the page the switch came from: that page may show the old workspace's object.
    return redirect_to(request, reverse("core:home"))
