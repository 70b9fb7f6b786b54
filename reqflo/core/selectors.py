"""Reads of the core app that are more than a one-line filter."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, IntegerField, QuerySet, Value, When

from reqflo.core.models import Invitation, Membership, Role, Workspace


def memberships_of_user(user: User | AnonymousUser) -> QuerySet[Membership]:
    """Return the user's memberships with their workspaces, in workspace name order."""
    if not isinstance(user, User):
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace__created_at")
    )


def members_of_workspace(workspace: Workspace) -> QuerySet[Membership]:
    """Return the workspace's memberships with their users, owners first then by email."""
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .annotate(
            role_order=Case(
                *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role)),
                output_field=IntegerField(),
            )
        )
        .order_by("role_order", "user__email")
    )


def open_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    """Return invitations not yet accepted (expired ones included, marked by the template)."""
    return Invitation.objects.filter(workspace=workspace, accepted_at__isnull=True).order_by(
        "email"
    )
