"""Workspace, membership and invitation changes: every write of the core app goes through here.

Errors are ``MembershipError`` subclasses whose text is the sentence the page shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from reqflo.core.models import Invitation, Membership, Role, Workspace

logger = logging.getLogger(__name__)


class MembershipError(Exception):
    """A membership change was refused; ``str(error)`` is the sentence shown to the user."""


class LastOwnerError(MembershipError):
    """The change would leave the workspace without an owner."""


class AlreadyMemberError(MembershipError):
    """The email address already belongs to a member of the workspace."""


class InvitationError(MembershipError):
    """An invitation link cannot be used; ``reason`` says why in one word for tests and logs."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def normalize_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased: logins are email addresses, compared as such."""
    return email.strip().lower()


# --- Users and workspaces -------------------------------------------------------------------


def user_create(*, email: str, password: str | None) -> User:
    """Create a user whose username is their email address (how everyone logs in)."""
    address = normalize_email(email)
    return User.objects.create_user(username=address, email=address, password=password)


def user_for_email(email: str) -> User | None:
    """Return the user who logs in with ``email``, if any."""
    return User.objects.filter(username=normalize_email(email)).first()


def workspace_create(*, name: str, owner: User) -> Workspace:
    """Create a workspace named ``name`` with ``owner`` as its first owner.

    The slug comes from the name, with ``-2``, ``-3``… when taken. The unique constraint decides
    (not a look-up first), so two people creating "Acme" at the same moment both succeed.
    """
    base = slugify(name)[:50] or "workspace"
    taken = set(Workspace.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    suffix = 1
    while True:
        slug = base if suffix == 1 else f"{base}-{suffix}"
        suffix += 1
        if slug in taken:
            continue
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(name=name.strip(), slug=slug)
                Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
        except IntegrityError:
            if not Workspace.objects.filter(slug=slug).exists():
                raise
            continue  # someone created that slug since the look-up: take the next one
        return workspace


# --- Members --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberAdded:
    """What adding an email did: an existing user joined, or an invitation waits for them."""

    membership: Membership | None = None
    invitation: Invitation | None = None


def member_add(*, workspace: Workspace, email: str, role: Role, invited_by: User) -> MemberAdded:
    """Add ``email`` to ``workspace``: an existing user joins now, anyone else is invited."""
    user = user_for_email(email)
    if user is None:
        invitation = invitation_create(
            workspace=workspace, email=email, role=role, invited_by=invited_by
        )
        return MemberAdded(invitation=invitation)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, workspace=workspace, role=role)
    except IntegrityError:
        raise AlreadyMemberError(f"{user.email} is already a member of {workspace}.") from None
    return MemberAdded(membership=membership)


def _lock_members(workspace_id: UUID) -> None:
    # Every change that could drop the last owner locks the workspace row first, so two such
    # changes on one workspace run one after the other and the second sees the first's result.
    Workspace.objects.select_for_update().filter(pk=workspace_id).first()


def _fresh_membership(membership: Membership) -> Membership:
    current = Membership.objects.filter(pk=membership.pk).select_related("user", "workspace")
    found = current.first()
    if found is None:
        raise MembershipError("That member was removed in the meantime.")
    return found


def _other_owners(membership: Membership) -> int:
    return (
        Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def membership_change_role(*, membership: Membership, role: Role) -> Membership:
    """Give ``membership`` the role ``role``; refuse to demote the workspace's last owner."""
    with transaction.atomic():
        _lock_members(membership.workspace_id)
        current = _fresh_membership(membership)
        if current.role == Role.OWNER and role != Role.OWNER and _other_owners(current) == 0:
            raise LastOwnerError(
                f"{current.user.email} is the last owner of {current.workspace}; "
                "make someone else an owner first."
            )
        current.role = role
        current.save(update_fields=["role", "updated_at"])
    return current


def membership_remove(*, membership: Membership) -> None:
    """Remove ``membership``; refuse to remove the workspace's last owner."""
    with transaction.atomic():
        _lock_members(membership.workspace_id)
        current = _fresh_membership(membership)
        if current.role == Role.OWNER and _other_owners(current) == 0:
            raise LastOwnerError(
                f"{current.user.email} is the last owner of {current.workspace} and cannot be "
                "removed; make someone else an owner first."
            )
        current.delete()


# --- Invitations ----------------------------------------------------------------------------


def invitation_create(
    *, workspace: Workspace, email: str, role: Role, invited_by: User
) -> Invitation:
    """Invite ``email`` to ``workspace``, replacing any open invitation to that address."""
    address = normalize_email(email)
    expires_at = timezone.now() + timedelta(days=settings.REQFLO_INVITATION_DAYS)
    with transaction.atomic():
        Invitation.objects.filter(
            workspace=workspace, email=address, accepted_at__isnull=True
        ).delete()
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=address,
            role=role,
            invited_by=invited_by,
            expires_at=expires_at,
        )
    return invitation


def invitation_revoke(*, invitation: Invitation) -> None:
    """Delete an open invitation, which makes its link answer "no longer valid"."""
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()


def invitation_check(invitation: Invitation) -> None:
    """Raise ``InvitationError`` if ``invitation`` was already used or has expired."""
    if invitation.accepted_at is not None:
        raise InvitationError(
            "used",
            "This invitation link has already been used. Log in, or ask an owner of "
            f"{invitation.workspace} for a new link.",
        )
    if invitation.expires_at <= timezone.now():
        expired = timezone.localtime(invitation.expires_at).strftime("%d %b %Y %H:%M %Z")
        raise InvitationError(
            "expired",
            f"This invitation link expired on {expired}. Ask an owner of "
            f"{invitation.workspace} for a new one.",
        )


def invitation_accept(
    *, invitation: Invitation, user: User | None = None, password: str | None = None
) -> Membership:
    """Use ``invitation`` once: join as ``user``, or create the invited user with ``password``.

    The row is locked so that two clicks on the same link cannot both succeed.
    """
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update()
            .select_related("workspace")
            .filter(pk=invitation.pk)
            .first()
        )
        if locked is None:
            raise InvitationError("revoked", "This invitation link is no longer valid.")
        invitation_check(locked)
        if user is None:
            if user_for_email(locked.email) is not None:
                raise InvitationError(
                    "account_exists",
                    f"An account for {locked.email} already exists; log in to accept.",
                )
            user = user_create(email=locked.email, password=password)
        elif normalize_email(user.email) != locked.email:
            raise InvitationError(
                "wrong_user",
                f"This invitation is for {locked.email}, but you are logged in as {user.email}. "
                "Log out and open the link again.",
            )
        membership, _ = Membership.objects.get_or_create(
            user=user, workspace=locked.workspace, defaults={"role": locked.role}
        )
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    logger.info("%s accepted an invitation to %s", user.email, locked.workspace)
    return membership
