"""The store encrypts at rest under its own key, and fingerprints are keyed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from reqflo.core.models import Workspace
from reqflo.secrets import services
from reqflo.secrets.crypto import StoreCipher, StoreKeyMissing, UndecryptableValue
from reqflo.secrets.models import Secret, SecretValue
from reqflo.secrets.resolution import secrets_resolve
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE

pytestmark = pytest.mark.django_db


def raw_column(secret: Secret) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM secrets_secretvalue WHERE secret_id = %s", [secret.pk])
        return [bytes(row[0]) for row in cursor.fetchall()]


def test_raw_database_column_holds_ciphertext_only(secret: Secret) -> None:
    stored = raw_column(secret)
    assert len(stored) == 2
    for ciphertext in stored:
        assert SECRET_VALUE.encode() not in ciphertext
        assert STAGING_VALUE.encode() not in ciphertext
        assert SECRET_VALUE[:12].encode() not in ciphertext
        assert len(ciphertext) > len(SECRET_VALUE)


def test_equal_values_encrypt_to_different_ciphertexts(workspace: Workspace, actor) -> None:
    first = services.secret_create(workspace=workspace, actor=actor, name="a", value="same")
    second = services.secret_create(workspace=workspace, actor=actor, name="b", value="same")
    assert raw_column(first) != raw_column(second)


def test_rotating_django_secret_key_keeps_every_secret_readable(secret: Secret) -> None:
    with override_settings(SECRET_KEY="a-completely-different-django-secret-key-0123456789"):
        resolved = secrets_resolve(
            workspace=secret.workspace, names=["payments_api_key"], environment="", run_id="r1"
        )
    assert resolved.values == {"payments_api_key": SECRET_VALUE}


def test_value_does_not_decrypt_under_another_store_key(secret: Secret) -> None:
    other = StoreCipher("another-store-key-that-is-long-enough-0123456789")
    with pytest.raises(UndecryptableValue):
        other.decrypt(raw_column(secret)[0])


def test_fingerprint_is_a_keyed_hmac_not_a_plain_hash(secret: Secret) -> None:
    default = SecretValue.objects.get(secret=secret, environment="")
    assert len(default.fingerprint) == 10
    for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5):
        assert default.fingerprint not in digest(SECRET_VALUE.encode()).hexdigest()
    other_key = StoreCipher("another-store-key-that-is-long-enough-0123456789")
    assert other_key.fingerprint(workspace_id=secret.workspace_id, plaintext=SECRET_VALUE) != (
        default.fingerprint
    )


def test_fingerprints_match_for_equal_values_in_one_workspace_only(
    workspace: Workspace, other_workspace: Workspace, actor
) -> None:
    a = services.secret_create(workspace=workspace, actor=actor, name="a", value=SECRET_VALUE)
    b = services.secret_create(workspace=workspace, actor=actor, name="b", value=SECRET_VALUE)
    c = services.secret_create(workspace=workspace, actor=actor, name="c", value="different")
    elsewhere = services.secret_create(
        workspace=other_workspace, actor=actor, name="a", value=SECRET_VALUE
    )

    def fingerprint(secret: Secret) -> str:
        return SecretValue.objects.get(secret=secret).fingerprint

    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    assert fingerprint(a) != fingerprint(elsewhere)


@pytest.mark.parametrize("key", ["", "too-short"])
def test_missing_or_short_store_key_is_refused_with_a_clear_message(
    workspace: Workspace, actor, key: str
) -> None:
    with override_settings(REQFLO_SECRETS_KEY=key), pytest.raises(StoreKeyMissing) as caught:
        services.secret_create(workspace=workspace, actor=actor, name="x", value="v-value")
    assert "REQFLO_SECRETS_KEY" in str(caught.value)
    assert not Secret.objects.filter(name="x").exists()


def test_system_check_reports_a_missing_store_key() -> None:
    from reqflo.secrets.checks import store_key_check

    with override_settings(REQFLO_SECRETS_KEY=""):
        errors = store_key_check()
    assert [e.id for e in errors] == ["secrets.E001"]
    assert store_key_check() == []


def test_stdlib_secrets_module_is_not_shadowed_by_the_app() -> None:
    import secrets as stdlib_secrets

    import reqflo.secrets

    assert hasattr(stdlib_secrets, "token_urlsafe")
    assert stdlib_secrets is not reqflo.secrets


READ_BACK = """
import django
django.setup()
from reqflo.core.models import Workspace
from reqflo.secrets.resolution import SecretResolutionError, secrets_resolve
workspace = Workspace.objects.get(slug="acme")
try:
    resolved = secrets_resolve(
        workspace=workspace, names=["payments_api_key"], environment="", run_id="proc"
    )
except SecretResolutionError as exc:
    print("ERROR", exc)
else:
    import hashlib
    print("SHA", hashlib.sha256(resolved.values["payments_api_key"].encode()).hexdigest())
"""


def read_back_in_new_process(**env: str) -> str:
    """Start a fresh process on the test database (as after a restart) and resolve the secret."""
    database = connection.settings_dict
    variables = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reqflo.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "ALLOWED_HOSTS": "localhost",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", READ_BACK],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.django_db(transaction=True)
def test_restart_with_a_new_django_secret_key_keeps_secrets(secret: Secret) -> None:
    from django.conf import settings

    output = read_back_in_new_process(
        SECRET_KEY="rotated-django-secret-key-" + "y" * 30,
        REQFLO_SECRETS_KEY=settings.REQFLO_SECRETS_KEY,
    )
    assert output == "SHA " + hashlib.sha256(SECRET_VALUE.encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_restart_with_a_wrong_store_key_names_the_unreadable_secret(secret: Secret) -> None:
    from django.conf import settings

    output = read_back_in_new_process(
        SECRET_KEY=settings.SECRET_KEY,
        REQFLO_SECRETS_KEY="a-wrong-store-key-that-is-long-enough-000000",
    )
    assert output.startswith("ERROR Secret payments_api_key cannot be decrypted")
    assert "rotate it in Admin → Secrets" in output
    assert SECRET_VALUE not in output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "REQFLO_SECRETS_KEY must be set when DATABASE_URL is set"),
        ("too-short-key", "REQFLO_SECRETS_KEY is 13 characters long; use at least 32"),
    ],
)
def test_production_refuses_to_start_without_a_usable_store_key(key: str, message: str) -> None:
    variables = {k: v for k, v in os.environ.items() if k != "REQFLO_SECRETS_KEY"}
    variables.update(
        DJANGO_SETTINGS_MODULE="reqflo.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/reqflo_unused",
        SECRET_KEY="production-like-django-secret-key-" + "z" * 30,
        REQFLO_SECRETS_KEY=key,
        ALLOWED_HOSTS="reqflo.example.com",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert message in done.stderr
