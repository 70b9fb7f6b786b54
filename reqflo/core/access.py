"""Who may see and do what: the access checks every view runs before touching workspace data.

Rules (docs/access.md explains them for people):

- Every object belongs to exactly one workspace. A user reaches it only through a membership in
  that workspace; anything else answers **404**, exactly like an id that does not exist, so ids
  of other tenants cannot be probed.
- Inside a workspace, roles nest: owner ⊇ editor ⊇ viewer. A member whose role is too low gets
  **403** with a sentence saying which role is needed.
- The *current* workspace lives in the session. Opening an object of another workspace the user
  belongs to switches to that workspace, so shared links just work.

How an app adds its helper: one function per object type, in ``reqflo/<app>/access.py``
(core never imports the apps built on it), each a thin wrapper over
``get_workspace_object_for_user``::

    def get_journey_for_user(
        request: AuthedHttpRequest, journey_id: UUID, *, min_role: Role = Role.VIEWER
    ) -> Journey:
        # Docstring: "Return the journey if the user may use it with min_role; else 404/403."
        return get_workspace_object_for_user(
            request, Journey.objects.all(), journey_id, min_role=min_role, action="edit journeys"
        )

Views call the helper first, before reading the form; list pages call ``require_role`` and
filter by ``membership.workspace``.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest

from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Invitation, Membership, Role, Workspace

SESSION_KEY = "reqflo_workspace_id"

M = TypeVar("M", bound=models.Model)


class NoWorkspace(Exception):
    """The signed-in user belongs to no workspace yet; the middleware sends them to create one."""


class RoleRequired(PermissionDenied):
    """The member's role is below what the action needs; the 403 page shows this message."""

    def __init__(self, minimum: Role, action: str) -> None:
        self.minimum = minimum
        self.action = action
        super().__init__(f"You need the {minimum.label.lower()} role to {action}.")


class _InWorkspace(Protocol):
    workspace_id: UUID


# --- Current workspace ----------------------------------------------------------------------


def resolve_current_membership(request: HttpRequest) -> Membership | None:
    """Return the membership for the session's workspace, falling back to the user's first.

    The fallback covers a first visit and a membership removed since the last request.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    wanted = request.session.get(SESSION_KEY)
    membership = None
    if wanted:
        membership = memberships.filter(workspace_id=wanted).first()
    if membership is None:
        membership = memberships.order_by("workspace__name", "workspace__created_at").first()
        if membership is not None:
            request.session[SESSION_KEY] = str(membership.workspace_id)
        elif wanted:
            del request.session[SESSION_KEY]
    return membership


def activate_workspace(request: HttpRequest, membership: Membership) -> None:
    """Make ``membership``'s workspace the current one for this request and the session."""
    request.session[SESSION_KEY] = str(membership.workspace_id)
    request.workspace = membership.workspace  # type: ignore[attr-defined]
    request.membership = membership  # type: ignore[attr-defined]


def current_membership(request: AuthedHttpRequest) -> Membership:
    """Return the user's membership in the current workspace; raise ``NoWorkspace`` if none."""
    if request.membership is None:
        raise NoWorkspace
    return request.membership


def require_role(request: AuthedHttpRequest, minimum: Role, *, action: str) -> Membership:
    """Return the current membership if its role is ``minimum`` or above; else raise 403.

    ``action`` completes "You need the <role> role to …" on the 403 page.
    """
    membership = current_membership(request)
    if not membership.has_role(minimum):
        raise RoleRequired(minimum, action)
    return membership


# --- One helper per object type ------------------------------------------------------------


def _membership_or_404(request: AuthedHttpRequest, workspace_id: UUID) -> Membership:
    # The middleware has usually read this very membership already (the current workspace).
    current = getattr(request, "membership", None)
    if isinstance(current, Membership) and current.workspace_id == workspace_id:
        return current
    membership = (
        Membership.objects.filter(user=request.user, workspace_id=workspace_id)
        .select_related("workspace")
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def get_workspace_for_user(
    request: AuthedHttpRequest,
    workspace_id: UUID,
    *,
    min_role: Role = Role.VIEWER,
    action: str = "open this workspace",
) -> Workspace:
    """Return the workspace if the user is a member with ``min_role``; 404 for non-members."""
    membership = _membership_or_404(request, workspace_id)
    if not membership.has_role(min_role):
        raise RoleRequired(min_role, action)
    return membership.workspace


def get_workspace_object_for_user(
    request: AuthedHttpRequest,
    queryset: models.QuerySet[M],
    pk: UUID,
    *,
    min_role: Role = Role.VIEWER,
    action: str,
) -> M:
    """Return the object of a workspace the user belongs to, checking their role there.

    ``queryset``'s model needs a ``workspace`` foreign key. The object's workspace becomes the
    current one (see the module docstring).
    """
    obj = queryset.filter(pk=pk, workspace__memberships__user=request.user).first()
    if obj is None:
        raise Http404("No such object in your workspaces.")
    membership = _membership_or_404(request, cast(_InWorkspace, obj).workspace_id)
    if not membership.has_role(min_role):
        raise RoleRequired(min_role, action)
    if request.membership is None or request.membership.pk != membership.pk:
        activate_workspace(request, membership)
    return obj


def get_membership_for_user(request: AuthedHttpRequest, membership_id: UUID) -> Membership:
    """Return a membership the user may manage: owners only, in one of their workspaces."""
    return get_workspace_object_for_user(
        request,
        Membership.objects.select_related("user", "workspace"),
        membership_id,
        min_role=Role.OWNER,
        action="manage members",
    )


def get_invitation_for_user(request: AuthedHttpRequest, invitation_id: UUID) -> Invitation:
    """Return a pending invitation the user may manage (owners only)."""
    return get_workspace_object_for_user(
        request,
        Invitation.objects.filter(accepted_at__isnull=True).select_related("workspace"),
        invitation_id,
        min_role=Role.OWNER,
        action="manage invitations",
    )
