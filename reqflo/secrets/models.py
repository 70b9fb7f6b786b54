"""Secrets, their encrypted values (a default plus per-environment overrides) and the audit log.

Values live in their own table so that listing secrets never loads (or decrypts) a value: only
the resolution service reads ``SecretValue.value``. Per-environment values are keyed by the
environment's *name* (what runs, ``--env`` and ``reqflo.yaml`` use); renaming an environment
renames its slots (``secret_environment_rename``). See docs/secrets.md for the trade-off.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from reqflo.core.models import BaseModel, Workspace
from reqflo.secrets.fields import EncryptedValueField

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
ENV_VARIABLE_PREFIX = "REQFLO_SECRET_"
NAME_MAX_LENGTH = 100
# "" is the default value's slot; any other value is an environment's name.
DEFAULT_ENVIRONMENT = ""


class Secret(BaseModel):
    """A named credential of one workspace, referenced by journeys as ``{{ secrets.NAME }}``."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_run = models.CharField(max_length=64, blank=True)

    # How many journeys' latest versions reference it, when a list page counted them.
    usage_count: int = 0

    class Meta:
        ordering = ["name"]
        constraints = [
            # Unique as the CLI sees names: REQFLO_SECRET_<NAME upper-cased, '-' and '.' as '_'>.
            models.UniqueConstraint(
                Upper(Replace(Replace("name", Value("-"), Value("_")), Value("."), Value("_"))),
                "workspace",
                name="secret_unique_variable_per_workspace",
            ),
            models.CheckConstraint(
                condition=models.Q(name__regex=NAME_PATTERN), name="secret_name_charset"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def env_variable(self) -> str:
        return env_variable_for(self.name)


def env_variable_for(name: str) -> str:
    """Return the variable a local CLI run reads this secret from (see docs/cli.md)."""
    return ENV_VARIABLE_PREFIX + name.upper().replace("-", "_").replace(".", "_")


class SecretValue(BaseModel):
    """One encrypted value of a secret: the default ("") or one environment's override."""

    secret = models.ForeignKey(Secret, on_delete=models.CASCADE, related_name="values")
    environment = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    value = EncryptedValueField()
    fingerprint = models.CharField(max_length=16)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    # Whether the raw bytes verify under the store key; set by the selectors that check them.
    intact: bool = True

    class Meta:
        ordering = ["environment"]
        constraints = [
            models.UniqueConstraint(
                fields=["secret", "environment"], name="secret_value_unique_environment"
            ),
        ]

    def __str__(self) -> str:
        # Never the value: this string can end up in the Django admin and in logs.
        return f"{self.secret_id} · {self.environment or 'default'}"

    @property
    def is_default(self) -> bool:
        return self.environment == DEFAULT_ENVIRONMENT


class AuditKind(models.TextChoices):
    CREATED = "created", "Created"
    ROTATED = "rotated", "Value rotated"
    DESCRIBED = "described", "Description changed"
    ENV_SET = "env_set", "Environment value set"
    ENV_CLEARED = "env_cleared", "Environment value cleared"
    DELETED = "deleted", "Deleted"
    USED = "used", "Used by run"


class SecretAuditEvent(models.Model):
    """One append-only audit entry; UPDATE and DELETE are refused by a database trigger.

    The secret, actor and run are plain columns (not enforced foreign keys) because the entry
    must outlive them: a deleted secret keeps its history, and no cascade may rewrite a row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    secret_id = models.UUIDField(null=True, db_index=True)
    secret_name = models.CharField(max_length=NAME_MAX_LENGTH)
    kind = models.CharField(max_length=20, choices=AuditKind.choices)
    environment = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    fingerprint = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=254, blank=True)
    run_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["workspace", "-at"], name="secret_audit_ws_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AuditKind.values), name="secret_audit_kind_valid"
            ),
            # A use is always a run's; every other entry is a person's.
            models.CheckConstraint(
                condition=(
                    models.Q(kind=AuditKind.USED, run_id__gt="")
                    | (~models.Q(kind=AuditKind.USED) & models.Q(run_id=""))
                ),
                name="secret_audit_used_has_run",
            ),
            # A resumed run resolves its secrets again; the use is recorded once.
            models.UniqueConstraint(
                fields=["secret_id", "run_id"],
                condition=models.Q(kind=AuditKind.USED),
                name="secret_audit_one_use_per_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.secret_name} · {self.kind} · {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def actor_label(self) -> str:
        return f"run {self.run_id}" if self.run_id else (self.actor_name or "unknown")
