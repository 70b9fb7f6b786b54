"""Workspaces (tenants) and memberships with roles."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class BaseModel(models.Model):
    """Abstract base: a non-sequential UUID primary key plus creation and update times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    """A member's role; each role may do everything the roles below it may do."""

    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def includes(self, other: Role) -> bool:
        """Return whether this role may do what ``other`` may do (owner ⊇ editor ⊇ viewer)."""
        return self.rank >= other.rank


_ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


class Workspace(BaseModel):
    """The tenant: everything else belongs to exactly one workspace."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    """A user's role in one workspace; every workspace keeps at least one owner."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        ordering = ["workspace__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace} · {self.role}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def can_edit(self) -> bool:
        return self.role_enum.includes(Role.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    def has_role(self, minimum: Role) -> bool:
        """Return whether this member's role is ``minimum`` or above."""
        return self.role_enum.includes(minimum)


class Invitation(BaseModel):
    """A pending offer for an email address to join a workspace with a role.

    The link carries a signature of the invitation's id (see ``reqflo.core.invitations``), so
    an owner can copy it again later; ``accepted_at`` makes it single-use and ``expires_at``
    bounds its life. Revoking deletes the row, which kills the link.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
            # One open invitation per address and workspace: inviting again replaces it.
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_unique_pending_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.workspace} ({self.role})"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None


class WorkerPing(models.Model):
    """One diagnostic message sent through the broker and answered by a Celery worker.

    The connection check (``manage.py ping_worker``, later Admin → Runners) measures the round
    trip: the sender commits the row, a worker stamps ``answered_at`` and its name, the sender
    sees the stamp. Both stamps come from the database clock, so worker clocks do not matter.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    queue = models.CharField(max_length=200)
    sent_at = models.DateTimeField(db_default=Now())
    answered_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        state = f"answered by {self.worker}" if self.answered_at else "unanswered"
        return f"ping {self.pk} on {self.queue} ({state})"
