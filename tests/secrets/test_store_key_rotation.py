"""``manage.py rotate_secrets_key`` moves every value to a new key, or changes nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from reqflo.core.models import Workspace
from reqflo.secrets import services
from reqflo.secrets.crypto import StoreCipher
from reqflo.secrets.models import Secret, SecretValue
from reqflo.secrets.resolution import SecretResolutionError, secrets_resolve
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE

pytestmark = pytest.mark.django_db

NEW_KEY = "new-store-key-0f9e8d7c6b5a4938271605f4e3d2c1b0"


def ciphertexts() -> dict[str, bytes]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, value FROM secrets_secretvalue")
        return {str(pk): bytes(value) for pk, value in cursor.fetchall()}


def resolve_all(workspace: Workspace) -> dict[str, str]:
    names = list(Secret.objects.filter(workspace=workspace).values_list("name", flat=True))
    default = secrets_resolve(workspace=workspace, names=names, environment="", run_id="r")
    staging = secrets_resolve(workspace=workspace, names=names, environment="staging", run_id="r")
    return {**default.values, **{f"{k}@staging": v for k, v in staging.values.items()}}


@pytest.fixture
def store(secret: Secret, workspace: Workspace, actor) -> Workspace:
    services.secret_create(workspace=workspace, actor=actor, name="github.token", value="ghp_1")
    return workspace


@pytest.fixture
def new_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "new.key"
    path.write_text(NEW_KEY + "\n")
    return path


def test_rotation_re_encrypts_every_value_under_the_new_key(
    store: Workspace, new_key_file: Path
) -> None:
    before = ciphertexts()
    fingerprints = dict(SecretValue.objects.values_list("id", "fingerprint"))
    out = StringIO()
    call_command("rotate_secrets_key", new_key_file=str(new_key_file), stdout=out)
    assert "Re-encrypted 3 value(s) of 2 secret(s)" in out.getvalue()
    after = ciphertexts()
    assert after.keys() == before.keys()
    assert all(after[pk] != before[pk] for pk in before)
    # Fingerprints are keyed by the store key, so they are recomputed too.
    assert dict(SecretValue.objects.values_list("id", "fingerprint")) != fingerprints

    with override_settings(REQFLO_SECRETS_KEY=NEW_KEY):
        assert resolve_all(store) == {
            "payments_api_key": SECRET_VALUE,
            "github.token": "ghp_1",
            "payments_api_key@staging": STAGING_VALUE,
            "github.token@staging": "ghp_1",
        }
    # The old key no longer opens anything.
    with pytest.raises(SecretResolutionError, match="cannot be decrypted"):
        resolve_all(store)


def test_rotation_reads_the_new_key_from_the_environment(
    store: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQFLO_SECRETS_NEW_KEY", NEW_KEY)
    call_command("rotate_secrets_key", stdout=StringIO())
    with override_settings(REQFLO_SECRETS_KEY=NEW_KEY):
        assert resolve_all(store)["payments_api_key"] == SECRET_VALUE


def test_a_wrong_old_key_is_refused_and_nothing_changes(
    store: Workspace, new_key_file: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not-the-key-the-store-was-made-with-000000000")
    before = ciphertexts()
    with pytest.raises(CommandError) as caught:
        call_command("rotate_secrets_key", old_key_file=str(wrong), new_key_file=str(new_key_file))
    message = str(caught.value)
    assert message.startswith("3 value(s) do not decrypt under the old key:")
    assert "payments_api_key (environment staging)" in message
    assert "Nothing was changed." in message
    assert ciphertexts() == before
    assert resolve_all(store)["payments_api_key"] == SECRET_VALUE


def test_one_corrupted_row_blocks_the_whole_rotation_and_is_named(
    store: Workspace, new_key_file: Path
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE secrets_secretvalue SET value = %s WHERE environment = ''"
            " AND secret_id = (SELECT id FROM secrets_secret WHERE name = 'github.token')",
            [b"damaged"],
        )
    before = ciphertexts()
    with pytest.raises(CommandError, match=r"^1 value\(s\) do not decrypt") as caught:
        call_command("rotate_secrets_key", new_key_file=str(new_key_file))
    assert "do not decrypt under the old key: github.token. Nothing" in str(caught.value)
    assert "rotated in Admin → Secrets" in str(caught.value)
    assert ciphertexts() == before


def test_check_mode_verifies_without_changing_anything(store: Workspace) -> None:
    before = ciphertexts()
    out = StringIO()
    call_command("rotate_secrets_key", check=True, stdout=out)
    assert out.getvalue().strip() == "All 3 value(s) of 2 secret(s) decrypt under the current key."
    assert ciphertexts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("short", "The new store key is 5 characters long; use at least 32"),
        ("", "The new store key is not set"),
    ],
)
def test_a_weak_or_empty_new_key_is_refused(
    store: Workspace, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "new.key"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("rotate_secrets_key", new_key_file=str(path))


def test_the_same_key_twice_is_refused(store: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "same.key"
    path.write_text(settings.REQFLO_SECRETS_KEY)
    with pytest.raises(CommandError, match="same as the old one"):
        call_command("rotate_secrets_key", new_key_file=str(path))


def test_a_missing_new_key_says_how_to_give_it(
    store: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQFLO_SECRETS_NEW_KEY", raising=False)
    with pytest.raises(CommandError, match="--new-key-file or \\$REQFLO_SECRETS_NEW_KEY"):
        call_command("rotate_secrets_key")


def test_a_value_that_does_not_read_back_rolls_everything_back(
    store: Workspace, new_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-back check: a write that would not decrypt to the same text undoes the rotation."""
    original = StoreCipher.encrypt

    def garbled(self: StoreCipher, plaintext: str) -> bytes:
        # As if the new key's writes were damaged on their way to the database.
        return original(self, plaintext + " (garbled)")

    before = ciphertexts()
    monkeypatch.setattr(StoreCipher, "encrypt", garbled)
    with pytest.raises(CommandError, match="did not read back under the new key; rolled back"):
        call_command("rotate_secrets_key", new_key_file=str(new_key_file))
    monkeypatch.undo()
    assert ciphertexts() == before
    assert resolve_all(store)["payments_api_key"] == SECRET_VALUE
