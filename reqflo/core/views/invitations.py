"""Accepting an invitation link: set a password and join, or join with the signed-in account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from reqflo.core import services
from reqflo.core.access import activate_workspace
from reqflo.core.forms import InvitationPasswordForm
from reqflo.core.invitations import invitation_from_token
from reqflo.core.models import Invitation

# Used and expired links are "gone"; a link for someone else is "forbidden"; a link that never
# existed or was revoked is "not found".
_STATUS = {"used": 410, "expired": 410, "wrong_user": 403, "account_exists": 409}


def _refused(request: HttpRequest, error: services.InvitationError) -> HttpResponse:
    status = _STATUS.get(error.reason, 404)
    return render(request, "core/invitation_invalid.html", {"reason": str(error)}, status=status)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_from_token(token)
        services.invitation_check(invitation)
    except services.InvitationError as error:
        return _refused(request, error)

    user = request.user if isinstance(request.user, User) else None
    account_exists = user is None and services.user_for_email(invitation.email) is not None
    form = InvitationPasswordForm(email=invitation.email)
    if request.method == "POST" and not account_exists:
        if user is None:
            form = InvitationPasswordForm(request.POST, email=invitation.email)
            if not form.is_valid():
                return _page(request, invitation, form, account_exists, status=400)
        try:
            membership = services.invitation_accept(
                invitation=invitation,
                user=user,
                password=form.cleaned_data["password1"] if user is None else None,
            )
        except services.InvitationError as error:
            return _refused(request, error)
        if user is None:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        activate_workspace(request, membership)
        messages.success(request, f"Welcome to {membership.workspace}!")
        return redirect("core:home")
    return _page(request, invitation, form, account_exists)


def _page(
    request: HttpRequest,
    invitation: Invitation,
    form: InvitationPasswordForm,
    account_exists: bool,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {"invitation": invitation, "form": form, "account_exists": account_exists}
    return render(request, "core/invitation_accept.html", context, status=status)
