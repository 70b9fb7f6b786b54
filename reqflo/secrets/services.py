"""Write paths of the secret store: create, rotate, per-environment values, delete.

Every change writes its audit entry in the same transaction. Values are taken in and encrypted,
never returned; ``sensitive_variables()`` (all locals) keeps them out of Django's error reports,
and transactions are blocks rather than decorators for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from reqflo.core.models import Workspace
from reqflo.journeys.models import Environment
from reqflo.secrets.crypto import current_cipher
from reqflo.secrets.models import (
    DEFAULT_ENVIRONMENT,
    AuditKind,
    Secret,
    SecretAuditEvent,
    SecretValue,
    env_variable_for,
)
from reqflo.secrets.validation import clean_environment_name, clean_name, clean_value


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a change, and where the request came from."""

    user: User
    ip_address: str | None = None

    @property
    def label(self) -> str:
        return str(getattr(self.user, "email", "") or self.user.get_username())


def audit_record(
    *,
    secret: Secret,
    kind: AuditKind,
    actor: Actor,
    environment: str = "",
    fingerprint: str = "",
) -> SecretAuditEvent:
    """Append one human action to the audit log."""
    return SecretAuditEvent.objects.create(
        workspace_id=secret.workspace_id,
        secret_id=secret.id,
        secret_name=secret.name,
        kind=kind,
        environment=environment,
        fingerprint=fingerprint,
        actor_id=actor.user.pk,
        actor_name=actor.label,
        ip_address=actor.ip_address,
    )


def _name_clash(workspace: Workspace, name: str) -> str | None:
    """Return why ``name`` is taken, or None: names must differ as CLI variables too."""
    variable = env_variable_for(name)
    for existing in Secret.objects.filter(workspace=workspace).values_list("name", flat=True):
        if existing == name:
            return f"A secret named '{name}' already exists in this workspace."
        if env_variable_for(existing) == variable:
            return (
                f"Name '{name}' clashes with the existing secret '{existing}': both are read "
                f"from {variable} in local runs."
            )
    return None


@sensitive_variables()
def _store_value(*, secret: Secret, environment: str, value: str, actor: Actor) -> str:
    """Encrypt and save one value slot of ``secret`` (replacing it); return the fingerprint.

    The old value is overwritten without being read, so a slot whose ciphertext is damaged can
    always be repaired by setting a new value.
    """
    plaintext = clean_value(value)
    fingerprint = current_cipher().fingerprint(
        workspace_id=secret.workspace_id, plaintext=plaintext
    )
    now = timezone.now()
    fields = {"value": plaintext, "fingerprint": fingerprint, "set_by": actor.user, "set_at": now}
    slot = SecretValue.objects.filter(secret=secret, environment=environment)
    if not slot.update(**fields, updated_at=now):
        SecretValue.objects.create(secret=secret, environment=environment, **fields)
    Secret.objects.filter(pk=secret.pk).update(changed_by=actor.user, changed_at=now)
    return fingerprint


@sensitive_variables()
def secret_create(
    *, workspace: Workspace, actor: Actor, name: str, value: str, description: str = ""
) -> Secret:
    """Create a secret with its default value; raise ValidationError for bad or taken names."""
    errors: dict[str, str] = {}
    try:
        name = clean_name(name)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        clean_value(value)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "name" not in errors and (clash := _name_clash(workspace, name)):
        errors["name"] = clash
    if errors:
        raise ValidationError(errors)
    # A block, not the decorator: a decorator's frame would hold the value in its kwargs,
    # where Django's error reports cannot cleanse it.
    with transaction.atomic():
        try:
            with transaction.atomic():
                secret = Secret.objects.create(
                    workspace=workspace,
                    name=name,
                    description=description.strip(),
                    created_by=actor.user,
                    changed_by=actor.user,
                )
        except IntegrityError:
            # Lost a race with another request creating the same name.
            raise ValidationError(
                {"name": f"A secret named '{name}' already exists in this workspace."}
            ) from None
        fingerprint = _store_value(
            secret=secret, environment=DEFAULT_ENVIRONMENT, value=value, actor=actor
        )
        audit_record(secret=secret, kind=AuditKind.CREATED, actor=actor, fingerprint=fingerprint)
    return secret


@sensitive_variables()
def secret_rotate(*, secret: Secret, actor: Actor, value: str) -> str:
    """Replace the default value in place and return its fingerprint.

    Every journey uses the new value on its next run.
    """
    with transaction.atomic():
        fingerprint = _store_value(
            secret=secret, environment=DEFAULT_ENVIRONMENT, value=value, actor=actor
        )
        audit_record(secret=secret, kind=AuditKind.ROTATED, actor=actor, fingerprint=fingerprint)
    return fingerprint


@transaction.atomic
def secret_describe(*, secret: Secret, actor: Actor, description: str) -> Secret:
    """Change the description (shown to everyone in the workspace)."""
    description = description.strip()
    if len(description) > 500:
        raise ValidationError(
            {"description": f"Description is {len(description)} characters; the limit is 500."}
        )
    secret.description = description
    secret.changed_by = actor.user
    secret.changed_at = timezone.now()
    secret.save(update_fields=["description", "changed_by", "changed_at", "updated_at"])
    audit_record(secret=secret, kind=AuditKind.DESCRIBED, actor=actor)
    return secret


@sensitive_variables()
def secret_environment_value_set(
    *, secret: Secret, actor: Actor, environment: str, value: str
) -> str:
    """Set (or replace) the value used for runs on ``environment``; return the clean name.

    The environment must exist in the secret's workspace (archived ones included, so an
    archived environment can be prepared before it is restored).
    """
    environment = clean_environment_name(environment)
    if not Environment.objects.filter(workspace_id=secret.workspace_id, name=environment).exists():
        raise ValidationError(
            {
                "environment": f"This workspace has no environment named '{environment}'; "
                "create it under Admin → Environments first."
            }
        )
    with transaction.atomic():
        fingerprint = _store_value(secret=secret, environment=environment, value=value, actor=actor)
        audit_record(
            secret=secret,
            kind=AuditKind.ENV_SET,
            actor=actor,
            environment=environment,
            fingerprint=fingerprint,
        )
    return environment


@transaction.atomic
def secret_environment_value_clear(*, secret: Secret, actor: Actor, environment: str) -> None:
    """Remove an environment's value so runs there fall back to the default."""
    environment = clean_environment_name(environment)
    deleted, _ = SecretValue.objects.filter(secret=secret, environment=environment).delete()
    if not deleted:
        raise ValidationError(
            {"environment": f"Secret '{secret.name}' has no value for environment '{environment}'."}
        )
    Secret.objects.filter(pk=secret.pk).update(changed_by=actor.user, changed_at=timezone.now())
    audit_record(secret=secret, kind=AuditKind.ENV_CLEARED, actor=actor, environment=environment)


@transaction.atomic
def secret_delete(*, secret: Secret, actor: Actor) -> None:
    """Delete the secret and all its values; its audit history stays."""
    audit_record(secret=secret, kind=AuditKind.DELETED, actor=actor)
    secret.delete()


def secret_environment_rename(*, workspace: Workspace, old_name: str, new_name: str) -> int:
    """Move the workspace's values for environment ``old_name`` to ``new_name``.

    Called (through ``journeys.signals.environment_renamed``) in the transaction that renames
    an environment, so its secret values follow it; returns how many values moved.
    """
    if old_name == new_name:
        return 0
    # Values kept under ``new_name`` (from a deleted environment of that name) would collide
    # with the moving ones: say so in words instead of failing the unique constraint.
    kept = sorted(
        SecretValue.objects.filter(
            secret__workspace=workspace,
            environment=new_name,
            secret__values__environment=old_name,
        ).values_list("secret__name", flat=True)
    )
    if kept:
        raise ValidationError(
            {
                "name": f"Secret values for an environment named {new_name!r} are still stored "
                f"(for {', '.join(kept)}), from an environment of that name that was deleted. "
                "Clear them in Admin → Secrets, or choose another name."
            }
        )
    return SecretValue.objects.filter(secret__workspace=workspace, environment=old_name).update(
        environment=new_name, updated_at=timezone.now()
    )


def on_environment_renamed(
    sender: object, *, workspace: Workspace, old_name: str, new_name: str, **kwargs: object
) -> None:
    """Receive ``environment_renamed``: move the environment's secret values to its new name."""
    secret_environment_rename(workspace=workspace, old_name=old_name, new_name=new_name)
