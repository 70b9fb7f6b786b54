"""The database triggers that keep finished runs and their evidence unchangeable.

Python can be bypassed (``QuerySet.update()``, raw SQL, other programs); these triggers cannot,
short of a superuser or the tables' owner disabling them, which is why production runs its
migrations as a role separate from the application's (docs/deployment.md). What they refuse:

- ``runs_stepresult``: any DELETE but of an editor send's results; an INSERT for a finished
  run (``passed``, ``failed``, ``error``, ``cancelled``); an UPDATE of a finished run's result,
  and any UPDATE that changes anything but ``evidence``, ``digest`` and ``checkpoint`` (the
  lease holder of a *running* run re-redacts an earlier step's evidence when a later step
  captures a secret it showed, and re-chains the digests; DESIGN.md section 5: no secret value
  in a DB column in clear; and ``rotate_secrets_key`` re-seals an unfinished run's checkpoints
  under the new store key, ``reqflo.runs.resealing``);
- ``runs_run``: UPDATE once the status is finished, and DELETE of a finished run but an editor
  send (``trigger`` ``editor_send``: a try of unsaved content, never the journey's history,
  pruned by ``reqflo.runners.sends.sends_prune``; issue 15);
- TRUNCATE of either table (PostgreSQL: statement-level triggers; SQLite has no TRUNCATE, and
  its ``DELETE`` without ``WHERE`` fires the row triggers once triggers exist);
- ``runs_runseal`` and ``runners_runattempt`` (the records beside the evidence, at the end of
  this module): any DELETE but an editor send's, any TRUNCATE, and an UPDATE of what identifies
  them.

PostgreSQL raises SQLSTATE 23001 (restrict_violation), which Django reports as an
``IntegrityError``; SQLite aborts the statement (also an ``IntegrityError``).

This module is the one place the SQL lives: migrations call ``triggers_install``, and a later
migration that makes SQLite rebuild ``runs_run`` or ``runs_stepresult`` (which drops their
triggers) calls it again afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TERMINAL = "('passed', 'failed', 'error', 'cancelled')"
# The one trigger whose finished runs may be deleted (``Trigger.SEND``; a test pins the value).
SEND = "editor_send"
# The step result columns no UPDATE may change (everything but evidence, digest, checkpoint).
FROZEN_STEP_COLUMNS = (
    "id",
    "run_id",
    "index",
    "step_id",
    "status",
    "lease_token",
    "attempt",
    "created_at",
)

_POSTGRES_REJECT = """
CREATE OR REPLACE FUNCTION runs_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable once written or finished: % is not allowed',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _columns(row: str) -> str:
    return ", ".join(f'{row}."{column}"' for column in FROZEN_STEP_COLUMNS)


# FOR SHARE waits for a transaction finishing the run (it holds the row FOR UPDATE) and then
# reads its committed status, so an INSERT racing a finish cannot slip in after it.
_POSTGRES_STEP_GUARD = f"""
CREATE OR REPLACE FUNCTION runs_stepresult_guard() RETURNS trigger AS $$
DECLARE
    run_status text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF (SELECT "trigger" FROM runs_run WHERE id = OLD.run_id) = '{SEND}' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'runs_stepresult rows are immutable: DELETE is not allowed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    SELECT status INTO run_status FROM runs_run WHERE id = NEW.run_id FOR SHARE;
    IF run_status IN {TERMINAL} THEN
        RAISE EXCEPTION 'runs_stepresult rows of a finished run are immutable: % is not allowed',
            TG_OP USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND ({_columns("NEW")}) IS DISTINCT FROM ({_columns("OLD")}) THEN
        RAISE EXCEPTION 'runs_stepresult rows are immutable: an UPDATE may only re-redact the '
            'evidence (and its digest) or re-seal the checkpoint of a running run'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

POSTGRES = [
    _POSTGRES_REJECT,
    _POSTGRES_STEP_GUARD,
    "CREATE TRIGGER runs_stepresult_guard BEFORE INSERT OR UPDATE OR DELETE ON runs_stepresult "
    "FOR EACH ROW EXECUTE FUNCTION runs_stepresult_guard();",
    "CREATE TRIGGER runs_run_finished_immutable BEFORE UPDATE ON runs_run "
    f"FOR EACH ROW WHEN (OLD.status IN {TERMINAL}) EXECUTE FUNCTION runs_reject_change();",
    "CREATE TRIGGER runs_run_finished_no_delete BEFORE DELETE ON runs_run FOR EACH ROW "
    f"WHEN (OLD.status IN {TERMINAL} AND OLD.\"trigger\" <> '{SEND}') "
    "EXECUTE FUNCTION runs_reject_change();",
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION runs_reject_change();"
        for table in ("runs_stepresult", "runs_run")
    ),
]

DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS runs_stepresult_immutable ON runs_stepresult;",  # 0002's
    "DROP TRIGGER IF EXISTS runs_stepresult_guard ON runs_stepresult;",
    "DROP TRIGGER IF EXISTS runs_stepresult_no_truncate ON runs_stepresult;",
    "DROP TRIGGER IF EXISTS runs_run_finished_immutable ON runs_run;",
    "DROP TRIGGER IF EXISTS runs_run_finished_no_delete ON runs_run;",
    "DROP TRIGGER IF EXISTS runs_run_no_truncate ON runs_run;",
    "DROP FUNCTION IF EXISTS runs_stepresult_guard();",
    "DROP FUNCTION IF EXISTS runs_reject_change();",
]


def _sqlite_abort(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"


_RUN_FINISHED = f"(SELECT status FROM runs_run WHERE id = {{row}}.run_id) IN {TERMINAL}"
_STEP_CHANGED = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in FROZEN_STEP_COLUMNS)

_NOT_SEND = f"(SELECT \"trigger\" FROM runs_run WHERE id = OLD.run_id) IS NOT '{SEND}'"

SQLITE = [
    f"CREATE TRIGGER runs_stepresult_no_delete BEFORE DELETE ON runs_stepresult WHEN {_NOT_SEND} "
    + _sqlite_abort("runs_stepresult rows are immutable: DELETE is not allowed"),
    "CREATE TRIGGER runs_stepresult_finished_no_insert BEFORE INSERT ON runs_stepresult "
    f"WHEN {_RUN_FINISHED.format(row='NEW')} "
    + _sqlite_abort("runs_stepresult rows of a finished run are immutable: INSERT is not allowed"),
    "CREATE TRIGGER runs_stepresult_no_update BEFORE UPDATE ON runs_stepresult "
    f"WHEN {_RUN_FINISHED.format(row='OLD')} OR {_STEP_CHANGED} "
    + _sqlite_abort(
        "runs_stepresult rows are immutable: an UPDATE may only re-redact the evidence "
        "(and its digest) or re-seal the checkpoint of a running run"
    ),
    f"CREATE TRIGGER runs_run_finished_no_update BEFORE UPDATE ON runs_run "
    f"WHEN OLD.status IN {TERMINAL} "
    + _sqlite_abort("finished runs are immutable: UPDATE is not allowed"),
    f"CREATE TRIGGER runs_run_finished_no_delete BEFORE DELETE ON runs_run "
    f"WHEN OLD.status IN {TERMINAL} AND OLD.\"trigger\" IS NOT '{SEND}' "
    + _sqlite_abort("finished runs are immutable: DELETE is not allowed"),
]

DROP_SQLITE = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "runs_stepresult_no_update",
        "runs_stepresult_no_delete",
        "runs_stepresult_finished_no_insert",
        "runs_run_finished_no_update",
        "runs_run_finished_no_delete",
    )
]


def run_for_vendor(schema_editor: Any, statements: Mapping[str, Sequence[str]]) -> None:
    """Execute the statements written for the connection's database vendor, in order.

    Raises ``RuntimeError`` for a vendor with no statements: a database without the triggers
    would silently accept what they refuse.
    """
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"no immutability trigger for database vendor {vendor!r}")
    for statement in statements[vendor]:
        schema_editor.execute(statement, params=None)


def triggers_install(schema_editor: Any) -> None:
    """Drop whatever version of the runs triggers exists and create the current one."""
    run_for_vendor(
        schema_editor,
        {"postgresql": [*DROP_POSTGRES, *POSTGRES], "sqlite": [*DROP_SQLITE, *SQLITE]},
    )


def triggers_drop(schema_editor: Any) -> None:
    """Drop the runs triggers (any version)."""
    run_for_vendor(schema_editor, {"postgresql": DROP_POSTGRES, "sqlite": DROP_SQLITE})


# The records beside the evidence: a run's seal (``runs_runseal``) and its attempt records
# (``runners_runattempt``). Neither may be deleted (but with an editor send, pruned whole, see
# above) or truncated. A seal's run and digest never
# change; its signature may (``rotate_secrets_key`` re-signs seals under the new key,
# ``reqflo.runs.seals.run_seals_resign``). An attempt record's identity (run, number, fencing
# token, holder, claim time) never changes; how it ended may be written while the lease is
# current (``reqflo.runners.leases``).
RECORD_FROZEN_COLUMNS = {
    "runs_runseal": ("run_id", "digest", "created_at"),
    "runners_runattempt": ("id", "run_id", "number", "lease_token", "holder", "claimed_at"),
}


def _record_guard(table: str) -> str:
    columns = RECORD_FROZEN_COLUMNS[table]
    new = ", ".join(f'NEW."{c}"' for c in columns)
    old = ", ".join(f'OLD."{c}"' for c in columns)
    return f"""
CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND (SELECT "trigger" FROM runs_run WHERE id = OLD.run_id) = '{SEND}' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' OR ({new}) IS DISTINCT FROM ({old}) THEN
        RAISE EXCEPTION '{table} rows are records: % of ({", ".join(columns)}) is not allowed',
            TG_OP USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


RECORDS_POSTGRES = [
    _POSTGRES_REJECT,
    *(
        statement
        for table in RECORD_FROZEN_COLUMNS
        for statement in (
            _record_guard(table),
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_guard();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION runs_reject_change();",
        )
    ),
]

DROP_RECORDS_POSTGRES = [
    statement
    for table in RECORD_FROZEN_COLUMNS
    for statement in (
        f"DROP TRIGGER IF EXISTS {table}_guard ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"DROP FUNCTION IF EXISTS {table}_guard();",
    )
]

RECORDS_SQLITE = [
    statement
    for table, columns in RECORD_FROZEN_COLUMNS.items()
    for statement in (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN {_NOT_SEND} "
        + _sqlite_abort(f"{table} rows are records: DELETE is not allowed"),
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN "
        + " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)
        + " "
        + _sqlite_abort(
            f"{table} rows are records: UPDATE of ({', '.join(columns)}) is not allowed"
        ),
    )
]

DROP_RECORDS_SQLITE = [
    f"DROP TRIGGER IF EXISTS {table}_{what};"
    for table in RECORD_FROZEN_COLUMNS
    for what in ("no_delete", "no_update")
]


def record_triggers_install(schema_editor: Any) -> None:
    """Drop whatever version of the seal and attempt record triggers exists; create these."""
    run_for_vendor(
        schema_editor,
        {
            "postgresql": [*DROP_RECORDS_POSTGRES, *RECORDS_POSTGRES],
            "sqlite": [*DROP_RECORDS_SQLITE, *RECORDS_SQLITE],
        },
    )


def record_triggers_drop(schema_editor: Any) -> None:
    """Drop the seal and attempt record triggers."""
    run_for_vendor(
        schema_editor, {"postgresql": DROP_RECORDS_POSTGRES, "sqlite": DROP_RECORDS_SQLITE}
    )
