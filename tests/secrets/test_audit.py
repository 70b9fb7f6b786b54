"""The audit log is append-only in the database itself, on PostgreSQL and on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from reqflo.secrets.models import SecretAuditEvent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_updating_an_audit_entry_is_refused_by_postgresql(secret) -> None:
    event = SecretAuditEvent.objects.filter(secret_id=secret.pk).first()
    assert event is not None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SecretAuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    event.refresh_from_db()
    assert event.actor_name == "owner@acme.test"


def test_deleting_an_audit_entry_is_refused_by_postgresql(secret) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SecretAuditEvent.objects.filter(secret_id=secret.pk).delete()
    assert SecretAuditEvent.objects.filter(secret_id=secret.pk).count() == 2


def test_raw_sql_cannot_rewrite_history_either(secret) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE secrets_secretauditevent SET kind = 'created'")


SQLITE_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.db import DatabaseError
call_command("migrate", verbosity=0)
from reqflo.core.models import Workspace
from reqflo.secrets.models import SecretAuditEvent
workspace = Workspace.objects.create(name="W", slug="w")
event = SecretAuditEvent.objects.create(workspace=workspace, secret_name="k", kind="created")
for attempt in ("update", "delete"):
    try:
        rows = SecretAuditEvent.objects.filter(pk=event.pk)
        rows.update(kind="deleted") if attempt == "update" else rows.delete()
    except DatabaseError as exc:
        print(attempt, "refused:", exc)
print("left", SecretAuditEvent.objects.filter(kind="created").count())
"""


@pytest.mark.slow
def test_embedded_sqlite_refuses_changes_to_audit_entries(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SECRET_KEY", "REQFLO_SECRETS_KEY"}
    }
    env.update(DJANGO_SETTINGS_MODULE="reqflo.settings", REQFLO_VAR_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("update refused: secrets_secretauditevent is append-only")
    assert lines[1].startswith("delete refused: secrets_secretauditevent is append-only")
    assert lines[2] == "left 1"
    # The embedded default made its own store key and said so.
    assert (tmp_path / "secrets_key").exists()
    assert "created the secret store key" in done.stderr
