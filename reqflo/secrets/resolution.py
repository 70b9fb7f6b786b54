"""Resolve a run's secrets at execution time: the only code path that decrypts a value.

Called by the execution paths only (the cloud worker before the first request, the self-hosted
runner claim). It checks every referenced secret first and raises one error naming all the
missing or unreadable ones, so no request is ever sent with half the secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from reqflo.core.models import Workspace
from reqflo.secrets.crypto import UndecryptableValue
from reqflo.secrets.models import DEFAULT_ENVIRONMENT, AuditKind, Secret, SecretAuditEvent
from reqflo.secrets.models import SecretValue as SecretValueRow
from reqflo.secrets.selectors import secret_names_in_plan


class SecretResolutionError(Exception):
    """A run cannot start because secrets are missing or unreadable; the message says which."""

    def __init__(
        self, *, missing: Iterable[str] = (), unreadable: Iterable[str] = (), environment: str = ""
    ) -> None:
        self.missing = tuple(sorted(missing))
        self.unreadable = tuple(sorted(unreadable))
        self.environment = environment
        parts = []
        if self.missing:
            names = ", ".join(self.missing)
            parts.append(
                f"Missing secret{'s' if len(self.missing) > 1 else ''} {names}: "
                "add them in Admin → Secrets."
            )
        for name in self.unreadable:
            parts.append(
                f"Secret {name} cannot be decrypted with the store key (the stored value is "
                "corrupted or was encrypted under another key): rotate it in Admin → Secrets."
            )
        super().__init__(" ".join(parts))


@dataclass(frozen=True, slots=True)
class ResolvedSecrets:
    """The values a run needs, by name, and every string the run must mask.

    ``repr`` and ``str`` never show the values, so the object is safe in logs and tracebacks.
    """

    values: Mapping[str, str] = field(repr=False)
    redact: frozenset[str] = field(repr=False)

    def __repr__(self) -> str:
        return f"ResolvedSecrets(names={sorted(self.values)})"

    __str__ = __repr__


@sensitive_variables()
def secrets_resolve(
    *, workspace: Workspace, names: Iterable[str], environment: str | None, run_id: str
) -> ResolvedSecrets:
    """Return the values of ``names`` for a run on ``environment`` and record the use.

    The environment's value wins over the default. Raises ``SecretResolutionError`` naming every
    missing or undecryptable secret before anything is recorded. Resolving again for the same
    run (a resumed run) records nothing new.
    """
    if not run_id:
        # Every use is recorded against its run; resolving without one is a caller's bug.
        raise ValueError("secrets_resolve needs the run_id of the run the values are for")
    wanted = sorted(set(names))
    if not wanted:
        return ResolvedSecrets(values={}, redact=frozenset())
    env = environment or DEFAULT_ENVIRONMENT
    secrets = {s.name: s for s in Secret.objects.filter(workspace=workspace, name__in=wanted)}
    missing = [name for name in wanted if name not in secrets]
    slots = {
        (row.secret_id, row.environment): row.pk
        for row in SecretValueRow.objects.filter(secret__in=secrets.values())
        .filter(Q(environment=DEFAULT_ENVIRONMENT) | Q(environment=env))
        .only("id", "secret_id", "environment")
    }
    values: dict[str, str] = {}
    unreadable = []
    for name, secret in secrets.items():
        pk = slots.get((secret.id, env)) or slots.get((secret.id, DEFAULT_ENVIRONMENT))
        if pk is None:
            missing.append(name)
            continue
        try:
            # One row per query, so a damaged row is named instead of failing the whole batch.
            plaintext = SecretValueRow.objects.values_list("value", flat=True).get(pk=pk)
        except UndecryptableValue:
            unreadable.append(name)
            continue
        values[name] = plaintext
    if missing or unreadable:
        raise SecretResolutionError(missing=missing, unreadable=unreadable, environment=env)
    _record_use(workspace=workspace, secrets=list(secrets.values()), environment=env, run_id=run_id)
    return ResolvedSecrets(values=values, redact=frozenset(values.values()))


def secrets_resolve_for_plan(
    *, workspace: Workspace, plan: Any, environment: str | None, run_id: str
) -> ResolvedSecrets:
    """Resolve every secret a compiled artifact's plan references (see ``secrets_resolve``)."""
    return secrets_resolve(
        workspace=workspace,
        names=secret_names_in_plan(plan),
        environment=environment,
        run_id=run_id,
    )


@transaction.atomic
def _record_use(
    *, workspace: Workspace, secrets: list[Secret], environment: str, run_id: str
) -> None:
    now = timezone.now()
    SecretAuditEvent.objects.bulk_create(
        [
            SecretAuditEvent(
                workspace=workspace,
                secret_id=secret.id,
                secret_name=secret.name,
                kind=AuditKind.USED,
                environment=environment,
                run_id=run_id,
                at=now,
            )
            for secret in secrets
        ],
        # The partial unique index on (secret, run) for uses makes a resumed run a no-op.
        ignore_conflicts=True,
    )
    Secret.objects.filter(pk__in=[s.pk for s in secrets]).update(
        last_used_at=now, last_used_run=run_id
    )
