"""Creating, rotating, per-environment values and deleting, each with its audit entry."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from reqflo.core.models import Workspace
from reqflo.journeys.models import Environment
from reqflo.secrets import services
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent, SecretValue
from reqflo.secrets.resolution import secrets_resolve
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE

pytestmark = pytest.mark.django_db


def kinds(secret: Secret) -> list[str]:
    events = SecretAuditEvent.objects.filter(secret_id=secret.pk).order_by("at", "id")
    return [event.kind for event in events]


def resolve(secret: Secret, environment: str = "") -> str:
    resolved = secrets_resolve(
        workspace=secret.workspace, names=[secret.name], environment=environment, run_id="r"
    )
    return resolved.values[secret.name]


def test_create_stores_default_value_and_records_who_and_from_where(secret: Secret, owner) -> None:
    created = SecretAuditEvent.objects.get(secret_id=secret.pk, kind=AuditKind.CREATED)
    assert created.actor_id == owner.pk
    assert created.actor_name == "owner@acme.test"
    assert str(created.ip_address) == "203.0.113.7"
    assert created.fingerprint == SecretValue.objects.get(secret=secret, environment="").fingerprint
    assert secret.created_by == owner
    assert resolve(secret) == SECRET_VALUE


def test_rotate_replaces_the_value_in_place(secret: Secret, actor) -> None:
    before = SecretValue.objects.get(secret=secret, environment="")
    services.secret_rotate(secret=secret, actor=actor, value="sk_live_rotated_value_0001")
    after = SecretValue.objects.get(secret=secret, environment="")
    assert after.pk == before.pk
    assert after.fingerprint != before.fingerprint
    assert kinds(secret) == ["created", "env_set", "rotated"]
    assert resolve(secret) == "sk_live_rotated_value_0001"


def test_environment_value_wins_and_clearing_falls_back_to_default(secret: Secret, actor) -> None:
    assert resolve(secret, "staging") == STAGING_VALUE
    assert resolve(secret, "production") == SECRET_VALUE
    services.secret_environment_value_clear(secret=secret, actor=actor, environment="staging")
    assert resolve(secret, "staging") == SECRET_VALUE
    cleared = SecretAuditEvent.objects.get(secret_id=secret.pk, kind=AuditKind.ENV_CLEARED)
    assert cleared.environment == "staging"


def test_a_value_for_an_unknown_environment_is_refused(secret: Secret, actor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_environment_value_set(
            secret=secret, actor=actor, environment=" stagign ", value="v-value"
        )
    assert caught.value.message_dict == {
        "environment": [
            "This workspace has no environment named 'stagign'; create it under "
            "Admin → Environments first."
        ]
    }


def test_environment_names_with_spaces_work_like_any_other(secret: Secret, actor) -> None:
    Environment.objects.create(
        workspace=secret.workspace, name="Staging EU", base_url="https://eu.acme.test"
    )
    services.secret_environment_value_set(
        secret=secret, actor=actor, environment="Staging EU", value="eu-value"
    )
    assert resolve(secret, "Staging EU") == "eu-value"


def test_renaming_an_environment_moves_its_values(secret: Secret) -> None:
    moved = services.secret_environment_rename(
        workspace=secret.workspace, old_name="staging", new_name="pre-production"
    )
    assert moved == 1
    assert resolve(secret, "pre-production") == STAGING_VALUE
    assert resolve(secret, "staging") == SECRET_VALUE


def test_clearing_an_environment_without_a_value_says_so(secret: Secret, actor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_environment_value_clear(secret=secret, actor=actor, environment="prod")
    assert caught.value.message_dict == {
        "environment": ["Secret 'payments_api_key' has no value for environment 'prod'."]
    }


def test_delete_removes_values_but_keeps_the_audit_history(secret: Secret, actor) -> None:
    secret_id = secret.pk
    services.secret_delete(secret=secret, actor=actor)
    assert not Secret.objects.filter(pk=secret_id).exists()
    assert not SecretValue.objects.filter(secret_id=secret_id).exists()
    history = SecretAuditEvent.objects.filter(secret_id=secret_id).order_by("at", "id")
    assert [event.kind for event in history] == ["created", "env_set", "deleted"]
    assert {event.secret_name for event in history} == {"payments_api_key"}


def test_description_change_is_audited(secret: Secret, actor) -> None:
    services.secret_describe(secret=secret, actor=actor, description="  Live key  ")
    secret.refresh_from_db()
    assert secret.description == "Live key"
    assert kinds(secret)[-1] == "described"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name is required."),
        ("   ", "Name is required."),
        ("my key", "Name 'my key' contains a space; use only letters, digits, '_', '.' and '-'."),
        ("key/1", "Name 'key/1' contains '/'; use only letters, digits, '_', '.' and '-'."),
        ("k" * 101, "Name is 101 characters long; the limit is 100."),
    ],
)
def test_bad_names_are_refused_with_a_message(
    workspace: Workspace, actor, name: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_create(workspace=workspace, actor=actor, name=name, value="v-value")
    assert caught.value.message_dict == {"name": [message]}
    assert not Secret.objects.exists()


def test_duplicate_names_are_refused(secret: Secret, actor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_create(
            workspace=secret.workspace, actor=actor, name="payments_api_key", value="v-value"
        )
    assert caught.value.message_dict == {
        "name": ["A secret named 'payments_api_key' already exists in this workspace."]
    }


@pytest.mark.parametrize("name", ["PAYMENTS_API_KEY", "payments-api-key", "Payments.Api.Key"])
def test_names_that_share_a_cli_variable_are_refused(secret: Secret, actor, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_create(workspace=secret.workspace, actor=actor, name=name, value="v-value")
    assert caught.value.message_dict == {
        "name": [
            f"Name '{name}' clashes with the existing secret 'payments_api_key': both are read "
            "from REQFLO_SECRET_PAYMENTS_API_KEY in local runs."
        ]
    }


def test_the_database_enforces_the_variable_uniqueness_too(secret: Secret) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Secret.objects.create(workspace=secret.workspace, name="Payments-API.key")


def test_the_same_name_is_free_in_another_workspace(
    secret: Secret, other_workspace: Workspace, actor
) -> None:
    services.secret_create(
        workspace=other_workspace, actor=actor, name="payments_api_key", value="v-value"
    )
    assert Secret.objects.filter(name="payments_api_key").count() == 2


def test_values_over_64_kib_are_refused_without_echoing_them(secret: Secret, actor) -> None:
    big = "x" * (64 * 1024 + 1)
    with pytest.raises(ValidationError) as caught:
        services.secret_rotate(secret=secret, actor=actor, value=big)
    assert caught.value.message_dict == {"value": ["Value is 64.0 KiB; the limit is 64 KiB."]}
    assert resolve(secret) == SECRET_VALUE


def test_a_value_of_exactly_64_kib_is_accepted(secret: Secret, actor) -> None:
    services.secret_rotate(secret=secret, actor=actor, value="é" * (32 * 1024))
    assert resolve(secret) == "é" * (32 * 1024)


def test_empty_value_and_bad_name_are_reported_together(workspace: Workspace, actor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_create(workspace=workspace, actor=actor, name="a b", value="")
    assert set(caught.value.message_dict) == {"name", "value"}
    assert caught.value.message_dict["value"] == ["Value is required."]


@pytest.mark.parametrize("value", ["x", "7", "ab", "PIN"])
def test_a_value_too_short_to_mask_in_its_encodings_is_refused(
    workspace: Workspace, actor, value: str
) -> None:
    """Such a secret would be masked only where it stands alone (docs/secrets.md)."""
    with pytest.raises(ValidationError) as caught:
        services.secret_create(workspace=workspace, actor=actor, name="short", value=value)
    message = caught.value.message_dict["value"][0]
    assert message.startswith(f"Value is {len(value)} character")
    assert "at least 4" in message
    secret = services.secret_create(workspace=workspace, actor=actor, name="ok", value="abcd")
    for refused in (
        lambda: services.secret_rotate(secret=secret, actor=actor, value=value),
        lambda: services.secret_environment_value_set(
            secret=secret, actor=actor, environment="staging", value=value
        ),
    ):
        with pytest.raises(ValidationError):
            refused()
