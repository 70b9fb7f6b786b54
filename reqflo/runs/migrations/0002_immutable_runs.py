"""Make step results write-once and finished runs unchangeable, in the database itself.

Python code can be bypassed (``QuerySet.update()``, raw SQL, other programs); these triggers
cannot. Step result rows reject every UPDATE and DELETE; a run row rejects both once its status
is terminal. PostgreSQL raises SQLSTATE 23001 (restrict_violation), which Django reports as an
``IntegrityError``; SQLite (the embedded default) aborts the statement.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TERMINAL = "('passed', 'failed', 'error', 'cancelled')"

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION runs_reject_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% rows are immutable once written or finished: % is not allowed',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER runs_stepresult_immutable BEFORE UPDATE OR DELETE ON runs_stepresult "
    "FOR EACH ROW EXECUTE FUNCTION runs_reject_change();",
    "CREATE TRIGGER runs_run_finished_immutable BEFORE UPDATE OR DELETE ON runs_run "
    f"FOR EACH ROW WHEN (OLD.status IN {TERMINAL}) EXECUTE FUNCTION runs_reject_change();",
]

SQLITE = [
    *(
        f"CREATE TRIGGER runs_stepresult_no_{op.lower()} BEFORE {op} ON runs_stepresult "
        "BEGIN SELECT RAISE(ABORT, "
        f"'runs_stepresult rows are immutable: {op} is not allowed'); END;"
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"CREATE TRIGGER runs_run_finished_no_{op.lower()} BEFORE {op} ON runs_run "
        f"WHEN OLD.status IN {TERMINAL} "
        f"BEGIN SELECT RAISE(ABORT, 'finished runs are immutable: {op} is not allowed'); END;"
        for op in ("UPDATE", "DELETE")
    ),
]

DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS runs_stepresult_immutable ON runs_stepresult;",
    "DROP TRIGGER IF EXISTS runs_run_finished_immutable ON runs_run;",
    "DROP FUNCTION IF EXISTS runs_reject_change();",
]

DROP_SQLITE = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "runs_stepresult_no_update",
        "runs_stepresult_no_delete",
        "runs_run_finished_no_update",
        "runs_run_finished_no_delete",
    )
]


def _run(schema_editor: Any, postgres: list[str], sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = postgres
    elif vendor == "sqlite":
        statements = sqlite
    else:
        raise RuntimeError(f"no immutability trigger for database vendor {vendor!r}")
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, POSTGRES, SQLITE)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, DROP_POSTGRES, DROP_SQLITE)


class Migration(migrations.Migration):
    dependencies = [("runs", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
