"""Read paths of the secret store: lists, usage by journeys, the audit log with filters.

Nothing here decrypts ``SecretValue.value``: pages read the raw ciphertext only to check its
seal (``StoreCipher.is_intact``), so a damaged row is named without its plaintext ever being
produced in the web process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import BinaryField, Count, Prefetch, Q, QuerySet
from django.db.models.functions import Cast, Lower
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys.models import Environment, Journey, VersionSecret
from reqflo.secrets.crypto import StoreKeyMissing, current_cipher
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent, SecretValue

# --- Secrets ----------------------------------------------------------------------------------


def values_without_plaintext() -> QuerySet[SecretValue]:
    """Return value rows with the plaintext deferred and the raw bytes as ``ciphertext``.

    The raw bytes come under another name because the field itself would decrypt them.
    """
    return (
        SecretValue.objects.defer("value")
        .annotate(ciphertext=Cast("value", output_field=BinaryField()))
        .select_related("set_by")
    )


def value_is_intact(slot: SecretValue) -> bool:
    """Return whether a row from ``values_without_plaintext`` verifies under the store key.

    Without a usable key nothing is flagged: the ``secrets.E001`` check reports the key itself,
    and the pages keep answering.
    """
    try:
        cipher = current_cipher()
    except StoreKeyMissing:
        return True
    # ``ciphertext`` is the queryset's annotation, unknown to the model's type.
    return cipher.is_intact(slot.ciphertext)  # type: ignore[attr-defined]


def _check_seals(slots: Iterable[SecretValue]) -> list[SecretValue]:
    """Set ``intact`` on each slot and return them as a list."""
    checked = list(slots)
    for slot in checked:
        slot.intact = value_is_intact(slot)
    return checked


def secret_list(*, workspace: Workspace, search: str = "") -> list[Secret]:
    """Return the workspace's secrets matching ``search`` (name or description).

    Each secret's ``values.all()`` is prefetched with ``intact`` set and the plaintext deferred.
    """
    secrets = Secret.objects.filter(workspace=workspace).select_related("changed_by")
    if search.strip():
        term = search.strip()
        secrets = secrets.filter(Q(name__icontains=term) | Q(description__icontains=term))
    found = list(secrets.prefetch_related(Prefetch("values", queryset=values_without_plaintext())))
    for secret in found:
        _check_seals(secret.values.all())
    return found


def secret_value_slots(secret: Secret) -> list[SecretValue]:
    """Return the secret's value rows (default first) with ``intact`` set, plaintext deferred."""
    return _check_seals(values_without_plaintext().filter(secret=secret).order_by("environment"))


def workspace_secret_names(workspace: Workspace) -> frozenset[str]:
    """Return the names to pass as ``run_check(secret_names=...)`` for this workspace."""
    return frozenset(Secret.objects.filter(workspace=workspace).values_list("name", flat=True))


def environment_names(workspace: Workspace) -> list[str]:
    """Return the names of the workspace's environments (archived last), for the value form."""
    return list(
        Environment.objects.filter(workspace=workspace)
        .order_by("archived", "name")
        .values_list("name", flat=True)
    )


# --- Usage ------------------------------------------------------------------------------------
#
# Which journeys use a secret is recorded when a version is saved (``journeys.VersionSecret``,
# from the engine's ``Definition.secret_names()``): these reads are queries, not parses.


def secret_names_in_plan(plan: Any) -> set[str]:
    """Return the secret names a compiled artifact plan references.

    The compiler stores every reference as ``{"kind": "secret", "name": NAME, ...}``; the walk
    does not depend on where in the plan those entries sit.
    """
    found: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("kind") == "secret" and isinstance(node.get("name"), str):
                found.add(node["name"])
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return found


@dataclass(frozen=True, slots=True)
class JourneyUse:
    """A journey whose latest version references a secret; ``url`` links to it when known."""

    label: str
    url: str = ""


def _latest_versions(workspace: Workspace) -> QuerySet[VersionSecret]:
    """Return the secret names the latest version of each journey of the workspace references."""
    heads = Journey.objects.filter(workspace=workspace, head__isnull=False).values("head")
    return VersionSecret.objects.filter(version__in=heads)


def usage_counts(workspace: Workspace) -> dict[str, int]:
    """Return, per secret name, how many journeys' latest versions reference it (one query)."""
    rows = _latest_versions(workspace).order_by().values("name").annotate(n=Count("version"))
    return {row["name"]: row["n"] for row in rows}


def secret_usage(secret: Secret) -> list[JourneyUse]:
    """Return the journeys whose latest version references the secret, by name (one query)."""
    journeys = (
        Journey.objects.filter(
            workspace_id=secret.workspace_id,
            head__secret_names__name=secret.name,
        )
        .order_by(Lower("name"), "pk")
        .values_list("pk", "name")
    )
    return [
        JourneyUse(name, reverse("journeys:journey_editor", args=[pk])) for pk, name in journeys
    ]


# --- Audit ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Filters of the workspace-wide audit list; empty fields do not filter."""

    secret: str = ""
    kind: str = ""
    actor: str = ""
    run_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def audit_secret_names(workspace: Workspace) -> list[str]:
    """Return every secret name in the workspace's audit log, deleted secrets included."""
    names = SecretAuditEvent.objects.filter(workspace=workspace).values_list(
        "secret_name", flat=True
    )
    return sorted(set(names), key=str.lower)


def audit_list(
    *, workspace: Workspace, filters: AuditFilters | None = None, secret_id: UUID | None = None
) -> QuerySet[SecretAuditEvent]:
    """Return the workspace's audit entries, newest first, narrowed by ``filters``."""
    events = SecretAuditEvent.objects.filter(workspace=workspace)
    if secret_id is not None:
        events = events.filter(secret_id=secret_id)
    f = filters or AuditFilters()
    if f.secret:
        events = events.filter(secret_name=f.secret)
    if f.kind in AuditKind.values:
        events = events.filter(kind=f.kind)
    if f.actor:
        events = events.filter(actor_name__icontains=f.actor)
    if f.run_id:
        events = events.filter(run_id=f.run_id)
    if f.since:
        events = events.filter(at__date__gte=f.since)
    if f.until:
        events = events.filter(at__date__lte=f.until)
    return events.order_by("-at", "-id")
