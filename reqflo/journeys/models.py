"""Journeys, their immutable versions, cases, environments and compiled build artifacts.

Writes go through ``reqflo.journeys.services``; reads beyond a ``get`` through ``selectors``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from reqflo.core.models import BaseModel, Workspace
from reqflo.engine import numbers
from reqflo.engine.egress import url_port


def validate_http_url(value: str) -> None:
    """Reject anything but an absolute http(s) URL with a host.

    Django's ``URLValidator`` also refuses single-label hosts (``http://api:8080``), which
    internal environments use all the time, so the check is written out here.
    """
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or " " in value:
        raise ValidationError(
            "Enter an http:// or https:// URL with a host, like https://api.example.com/v1."
        )
    try:
        url_port(parsed)
    except ValueError as exc:
        raise ValidationError(f"{str(exc).capitalize()}.") from None
    if parsed.username is not None or parsed.password is not None:
        # Environment values are shown to every member; credentials belong in the secret store.
        raise ValidationError(
            "Leave the user name and password out of the URL; keep credentials in "
            "Admin → Secrets and send them in a header."
        )


class ImmutableRowError(Exception):
    """A journey version or build artifact was about to change; both are write-once."""


class Journey(BaseModel):
    """A named, slugged, tagged journey; its content lives in numbered versions.

    ``head`` points at the newest version so lists and the editor read it without a query per
    journey. The slug is fixed at creation: the CLI and CI address journeys by it.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="journeys")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    archived = models.BooleanField(default=False)
    head = models.ForeignKey(
        "JourneyVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    head_number = models.PositiveIntegerField(default=0)
    # Where this journey's runs go when a dispatch does not say: "" (the workspace's default),
    # "cloud" or "self_hosted" with these labels (``reqflo.runners.labels.route_for``).
    default_runner = models.CharField(max_length=20, blank=True, default="")
    default_runner_labels = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="journey_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class JourneyVersion(BaseModel):
    """One immutable snapshot of a journey's whole definition, numbered v1, v2… per journey.

    ``definition`` is the document as JSON text, not a JSON column: PostgreSQL's jsonb reorders
    keys, and authors expect their headers and bodies back in the order they wrote them.
    ``digest`` hashes the engine-normalised document, so "nothing changed" is one comparison.
    A database trigger rejects UPDATE and DELETE on these rows (migration 0002).
    """

    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.TextField()
    digest = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.CharField(max_length=300, blank=True)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    # {step id: [the ids that step had in earlier versions, newest first]} for steps renamed in
    # the editor: a step's last-send mark follows it across saves (issue 15). Only renamed
    # steps are listed; a step added or duplicated has no earlier ids.
    step_aliases = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["journey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "number"], name="journey_version_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="journey_version_gte1"),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id} v{self.number}"

    @cached_property
    def document(self) -> dict[str, Any]:
        """Return the stored document (``{"journey": {...}}``) with its key order intact."""
        loaded: dict[str, Any] = numbers.loads(self.definition)  # every digit of a decimal
        return loaded

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("journey versions never change; save a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError("journey versions are never deleted")


# A stored secret's name is at most this long (``reqflo.secrets``); a longer reference can never
# match a secret (the Run check says it is missing), so it is not recorded as a use.
SECRET_NAME_MAX_LENGTH = 100


class VersionSecret(models.Model):
    """A secret name one journey version references, recorded when the version is saved.

    The engine reports the names (``Definition.secret_names()``); the secrets pages read
    "which journeys use this secret" from here instead of parsing every journey. Written once,
    with its version.
    """

    version = models.ForeignKey(
        JourneyVersion, on_delete=models.CASCADE, related_name="secret_names"
    )
    name = models.CharField(max_length=SECRET_NAME_MAX_LENGTH, db_index=True)

    class Meta:
        ordering = ["version", "name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="version_secret_once"),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} uses {self.name}"


class Case(BaseModel):
    """A named set of input values for one journey ("Happy path", "Expired token")."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="cases")
    name = models.CharField(max_length=120)
    values = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "name"], name="case_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Environment(BaseModel):
    """A workspace-level target: ``base_url`` plus named config values (``env.NAME``)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=60)
    base_url = models.CharField(max_length=500, validators=[validate_http_url])
    values = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="environment_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def as_mapping(self) -> dict[str, Any]:
        """Return the values a journey reads as ``env.NAME``, ``base_url`` included."""
        return {**self.values, "base_url": self.base_url}


class BuildArtifact(BaseModel):
    """The compiled, content-addressed plan of one journey version.

    ``artifact_id`` is the engine's ``art_<16 hex>``; two versions with the same content share
    it but keep one row each, so nothing is shared across workspaces. Write-once like versions.
    A draft (``version`` None) is the plan of unsaved editor content that Send ran.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.OneToOneField(
        JourneyVersion, on_delete=models.PROTECT, related_name="artifact", null=True, blank=True
    )
    artifact_id = models.CharField(max_length=24, db_index=True)
    plan = models.TextField()
    compiler_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.artifact_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("build artifacts never change")
        super().save(*args, **kwargs)


class VersionImportReport(models.Model):
    """The whole import report of a version an import created (issue 20), kept with it.

    The version's message holds a summary (300 characters at most); this holds every line, as
    ``ImportResult.to_text`` wrote it: credential-shaped values already masked, secret values
    never in it. Written once, with its version.
    """

    version = models.OneToOneField(
        JourneyVersion, on_delete=models.CASCADE, related_name="import_report"
    )
    text = models.TextField()

    def __str__(self) -> str:
        return f"import report of {self.version_id}"
