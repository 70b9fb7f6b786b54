"""Make the secrets audit log append-only in the database: UPDATE and DELETE raise.

PostgreSQL gets a row trigger; the embedded default (SQLite) gets two triggers with
``RAISE(ABORT, ...)``. TRUNCATE stays possible on PostgreSQL for the table owner only (test
database flushes use it); the application never issues it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

MESSAGE = "secrets_secretauditevent is append-only: audit entries cannot be changed or deleted"

POSTGRES_FORWARD = f"""
CREATE FUNCTION secrets_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER secrets_audit_append_only
    BEFORE UPDATE OR DELETE ON secrets_secretauditevent
    FOR EACH ROW EXECUTE FUNCTION secrets_audit_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS secrets_audit_append_only ON secrets_secretauditevent;
DROP FUNCTION IF EXISTS secrets_audit_append_only();
"""
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER secrets_audit_no_update BEFORE UPDATE ON secrets_secretauditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER secrets_audit_no_delete BEFORE DELETE ON secrets_secretauditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS secrets_audit_no_update;",
    "DROP TRIGGER IF EXISTS secrets_audit_no_delete;",
]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"No append-only trigger for database vendor {vendor!r}.")
    for statement in statements[vendor]:
        schema_editor.execute(statement)


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD})


def reverse(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": [POSTGRES_REVERSE], "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("secrets", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
