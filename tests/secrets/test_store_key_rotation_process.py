"""``manage.py rotate_secrets_key`` run for real, as operators do: a separate process on
PostgreSQL with committed rows, checked by reading the rows back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from reqflo.core.models import Workspace
from reqflo.secrets import services
from reqflo.secrets.crypto import StoreCipher
from reqflo.secrets.models import Secret
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
NEW_KEY = "process-new-store-key-7d1e0c9b8a7f6e5d4c3b2a19"


def stored_rows() -> dict[tuple[str, str], tuple[bytes, str]]:
    """Return (secret, environment) -> (raw ciphertext, fingerprint) straight from the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.name, v.environment, v.value, v.fingerprint FROM secrets_secretvalue v "
            "JOIN secrets_secret s ON s.id = v.secret_id"
        )
        return {(name, env): (bytes(raw), fp) for name, env, raw, fp in cursor.fetchall()}


def manage(*args: str, store_key: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py rotate_secrets_key`` in its own process on the test database."""
    database = connection.settings_dict
    variables = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reqflo.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "REQFLO_SECRETS_KEY": store_key or settings.REQFLO_SECRETS_KEY,
        "ALLOWED_HOSTS": "localhost",
    }
    # Only what the test gives: never a new key left over in the runner's environment.
    variables.pop("REQFLO_SECRETS_NEW_KEY", None)
    variables.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "rotate_secrets_key", *args],
        cwd=ROOT,
        env=variables,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def store(secret: Secret, workspace: Workspace, actor: services.Actor) -> Workspace:
    services.secret_create(workspace=workspace, actor=actor, name="github.token", value="ghp_1")
    return workspace


@pytest.fixture
def new_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "new.key"
    path.write_text(NEW_KEY + "\n")
    return path


def test_check_then_rotate_moves_every_row_to_the_new_key(
    store: Workspace, new_key_file: Path
) -> None:
    before = stored_rows()
    checked = manage("--check")
    assert checked.returncode == 0, checked.stderr
    assert "All 3 value(s) of 2 secret(s) decrypt under the current key." in checked.stdout
    assert stored_rows() == before

    done = manage("--new-key-file", str(new_key_file))
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 3 value(s) of 2 secret(s)" in done.stdout
    after = stored_rows()
    assert after.keys() == before.keys()
    new, old = StoreCipher(NEW_KEY), StoreCipher(settings.REQFLO_SECRETS_KEY)
    expected = {
        ("payments_api_key", ""): SECRET_VALUE,
        ("payments_api_key", "staging"): STAGING_VALUE,
        ("github.token", ""): "ghp_1",
    }
    for slot, (raw, fingerprint) in after.items():
        assert raw != before[slot][0]
        assert new.decrypt(raw) == expected[slot]
        assert not old.is_intact(raw)
        assert fingerprint == new.fingerprint(workspace_id=store.pk, plaintext=expected[slot])
    # The new key now passes the check; the old one names every value it cannot open.
    assert manage("--check", store_key=NEW_KEY).returncode == 0
    stale = manage("--check")
    assert stale.returncode == 1
    assert "3 value(s) do not decrypt under the current key" in stale.stderr


def test_a_corrupted_row_makes_the_command_refuse_and_change_nothing(
    store: Workspace, new_key_file: Path
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE secrets_secretvalue SET value = %s WHERE environment = 'staging'", [b"bad"]
        )
    before = stored_rows()
    refused = manage("--new-key-file", str(new_key_file))
    assert refused.returncode == 1
    assert (
        "1 value(s) do not decrypt under the old key: payments_api_key (environment staging). "
        "Nothing was changed."
    ) in refused.stderr
    assert "Traceback" not in refused.stderr
    assert SECRET_VALUE not in refused.stderr + refused.stdout
    assert stored_rows() == before


def test_a_wrong_old_key_is_refused_and_nothing_changes(
    store: Workspace, new_key_file: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text("a-wrong-old-store-key-that-is-long-enough-00")
    before = stored_rows()
    refused = manage("--old-key-file", str(wrong), "--new-key-file", str(new_key_file))
    assert refused.returncode == 1
    assert refused.stderr.startswith("CommandError: 3 value(s) do not decrypt under the old key")
    assert stored_rows() == before


def test_the_new_key_can_come_from_the_environment(store: Workspace) -> None:
    done = manage(REQFLO_SECRETS_NEW_KEY=NEW_KEY)
    assert done.returncode == 0, done.stderr
    raw, _ = stored_rows()[("github.token", "")]
    assert StoreCipher(NEW_KEY).decrypt(raw) == "ghp_1"
