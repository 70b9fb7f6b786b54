"""The members page: everyone in the workspace reads it; owners add, re-role and remove.

Each action answers a normal POST with a redirect back to the page (works without JavaScript)
and an htmx POST with the page's ``#members`` partial, so the page updates in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from reqflo.core import services
from reqflo.core.access import (
    get_invitation_for_user,
    get_membership_for_user,
    require_role,
)
from reqflo.core.forms import MemberAddForm, MemberRoleForm
from reqflo.core.http import (
    FORM_ERROR_STATUS,
    AuthedHttpRequest,
    htmx_partial,
    redirect_to,
    render_page,
)
from reqflo.core.invitations import invitation_url, log_invitation_link
from reqflo.core.models import Invitation, Membership, Role
from reqflo.core.selectors import members_of_workspace, open_invitations


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    url: str
    expired: bool


def _page_context(
    request: AuthedHttpRequest, membership: Membership, add_form: MemberAddForm | None = None
) -> dict[str, Any]:
    workspace = membership.workspace
    context: dict[str, Any] = {
        "workspace": workspace,
        "membership": membership,
        "members": members_of_workspace(workspace),
        "roles": Role.choices,
    }
    # Invitation links are credentials: only owners ever see them.
    if membership.is_owner:
        context["add_form"] = MemberAddForm() if add_form is None else add_form
        now = timezone.now()
        context["invitation_days"] = settings.REQFLO_INVITATION_DAYS
        context["invitations"] = [
            InvitationRow(
                invitation, invitation_url(request, invitation), invitation.expires_at <= now
            )
            for invitation in open_invitations(workspace)
        ]
    return context


def _members_response(
    request: AuthedHttpRequest,
    membership: Membership,
    add_form: MemberAddForm | None = None,
) -> HttpResponse:
    """Answer an action: the ``#members`` partial for htmx, else a redirect or the page.

    A form with errors is shown again (the partial or the page) with ``FORM_ERROR_STATUS``.
    """
    failed = add_form is not None and bool(add_form.errors)
    if failed or htmx_partial(request):
        return render_page(
            request,
            "core/member_list.html",
            _page_context(request, membership, add_form),
            partial="members",
            status=FORM_ERROR_STATUS if failed else 200,
        )
    return redirect("core:member_list")


@require_GET
@login_required
def member_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="see the members")
    return render(request, "core/member_list.html", _page_context(request, membership))


@require_POST
@login_required
def member_add(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.OWNER, action="add members")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.member_add(
                workspace=membership.workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except services.MembershipError as error:
            form.add_error("email", str(error))
        else:
            if added.invitation is not None:
                log_invitation_link(request, added.invitation)
                messages.success(
                    request,
                    f"{added.invitation.email} has no account yet: send them the invitation "
                    "link below. It works once.",
                )
            elif added.membership is not None:
                joined = added.membership
                messages.success(
                    request, f"{joined.user.email} joined as {joined.get_role_display()}."
                )
            return _members_response(request, membership)
    return _members_response(request, membership, add_form=form)


@require_POST
@login_required
def member_role(request: AuthedHttpRequest, membership_id: UUID) -> HttpResponse:
    target = get_membership_for_user(request, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["role"]))
    else:
        try:
            changed = services.membership_change_role(
                membership=target, role=form.cleaned_data["role"]
            )
        except services.MembershipError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{changed.user.email} is now {changed.get_role_display()}.")
    return _after_change(request)


@require_POST
@login_required
def member_remove(request: AuthedHttpRequest, membership_id: UUID) -> HttpResponse:
    target = get_membership_for_user(request, membership_id)
    try:
        services.membership_remove(membership=target)
    except services.MembershipError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {target.user.email} from {target.workspace}.")
    return _after_change(request)


@require_POST
@login_required
def invitation_revoke(request: AuthedHttpRequest, invitation_id: UUID) -> HttpResponse:
    invitation = get_invitation_for_user(request, invitation_id)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"Revoked the invitation for {invitation.email}.")
    return _after_change(request)


def _after_change(request: AuthedHttpRequest) -> HttpResponse:
    # The acting owner may just have demoted (the page turns read-only) or removed themselves
    # (the page is gone for them: go home).
    membership = (
        Membership.objects.filter(user=request.user, workspace=request.workspace)
        .select_related("workspace")
        .first()
    )
    if membership is None:
        return redirect_to(request, reverse("core:home"))
    return _members_response(request, membership)
