"""Make journey versions and build artifacts write-once in the database itself.

The Python models refuse to save an existing row, but ``QuerySet.update()``, raw SQL and other
programs bypass Python. These triggers reject UPDATE and DELETE on both tables, on PostgreSQL
(production) and on SQLite (the embedded default). PostgreSQL raises SQLSTATE 23001
(restrict_violation), which Django reports as an ``IntegrityError``.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLES = ("journeys_journeyversion", "journeys_buildartifact")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION journeys_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _postgres_sql(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION journeys_reject_change();"
    )


def _sqlite_sql(table: str, operation: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: {operation} is not allowed'); END;"
    )


def create_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(_postgres_sql(table))
    elif vendor == "sqlite":
        for table in TABLES:
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(_sqlite_sql(table, operation))
    else:
        raise RuntimeError(f"no immutability trigger for database vendor {vendor!r}")


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};")
        elif vendor == "sqlite":
            for operation in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS journeys_reject_change();")


class Migration(migrations.Migration):
    dependencies = [("journeys", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
