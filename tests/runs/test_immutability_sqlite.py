"""The embedded default's SQLite file refuses what PostgreSQL refuses, after every migration."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.slow


def _filler(declared: str) -> object:
    kind = declared.lower()
    if "int" in kind or "bool" in kind:
        return 1
    if "blob" in kind:
        return b""
    return "{}"  # valid JSON too, for the JSON columns' CHECK


def _insert(db: sqlite3.Connection, table: str, **values: object) -> None:
    """Insert a row, filling every other NOT NULL column (foreign keys are not enforced here)."""
    for _, name, declared, notnull, default, key in db.execute(f"PRAGMA table_info({table})"):
        if notnull and default is None and not key and name not in values:
            values[name] = _filler(declared)
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("sqlite") / "reqflo.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    db = sqlite3.connect(path, isolation_level=None)
    for run in ("finished", "running"):
        _insert(
            db, "runs_run", id=run, status="running", step_count=2, next_step=1, idempotency_key=run
        )
        _insert(db, "runs_stepresult", run_id=run, index=0, step_id="s1", evidence="{}")
    db.execute("UPDATE runs_run SET status = 'passed' WHERE id = 'finished'")
    yield db
    db.close()


@pytest.mark.parametrize(
    "sql",
    [
        'INSERT INTO runs_stepresult (run_id, "index", step_id, status, evidence, checkpoint, '
        "lease_token, attempt, digest, created_at) "
        "VALUES ('finished', 1, 's2', 'passed', '{}', x'', 1, 1, '', '2026-01-01')",
        "UPDATE runs_stepresult SET evidence = '{\"a\": 1}' WHERE run_id = 'finished'",
        "UPDATE runs_stepresult SET digest = 'd' WHERE run_id = 'finished'",
        "UPDATE runs_stepresult SET status = 'failed' WHERE run_id = 'running'",
        "DELETE FROM runs_stepresult WHERE run_id = 'running'",
        "DELETE FROM runs_stepresult",
        "UPDATE runs_run SET status = 'failed' WHERE id = 'finished'",
        "DELETE FROM runs_run",
    ],
)
def test_sqlite_refuses_changes_to_finished_runs_and_step_results(
    database: sqlite3.Connection, sql: str
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        database.execute(sql)
    assert database.execute("SELECT count(*) FROM runs_stepresult").fetchone() == (2,)


def test_sqlite_lets_a_running_run_re_redact_evidence_and_move_on(
    database: sqlite3.Connection,
) -> None:
    database.execute(
        "UPDATE runs_stepresult SET evidence = '{\"b\": 1}', digest = 'e' WHERE run_id = 'running'"
    )
    _insert(database, "runs_stepresult", run_id="running", index=1, step_id="s2", evidence="{}")
    database.execute("UPDATE runs_run SET next_step = 2 WHERE id = 'running'")
    database.execute("DELETE FROM runs_stepresult WHERE 0")  # deletes nothing: allowed
    assert database.execute(
        "SELECT count(*) FROM runs_stepresult WHERE run_id = 'running'"
    ).fetchone() == (2,)


def test_sqlite_lets_a_finished_editor_send_and_its_draft_go_and_nothing_else(
    database: sqlite3.Connection,
) -> None:
    # Issue 15: sends are pruned; a send is a run of trigger editor_send with a draft artifact.
    others = database.execute("SELECT count(*) FROM runs_stepresult").fetchone()
    _insert(database, "journeys_buildartifact", id=901, version_id=None)
    _insert(database, "journeys_buildartifact", id=902, version_id=7)
    _insert(
        database,
        "runs_run",
        id="send",
        status="running",
        trigger="editor_send",
        step_count=1,
        next_step=1,
        idempotency_key="send",
        artifact_id=901,
    )
    _insert(database, "runs_stepresult", run_id="send", index=0, step_id="s1", evidence="{}")
    database.execute("UPDATE runs_run SET status = 'passed' WHERE id = 'send'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        database.execute("UPDATE runs_run SET error_message = 'x' WHERE id = 'send'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        database.execute("DELETE FROM journeys_buildartifact WHERE id = 902")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        database.execute("UPDATE journeys_buildartifact SET plan = '' WHERE id = 901")
    database.execute("DELETE FROM runs_stepresult WHERE run_id = 'send'")
    database.execute("DELETE FROM runs_run WHERE id = 'send'")
    database.execute("DELETE FROM journeys_buildartifact WHERE id = 901")
    assert database.execute("SELECT count(*) FROM runs_run WHERE id = 'send'").fetchone() == (0,)
    # The other runs' rows are all still there.
    assert database.execute("SELECT count(*) FROM runs_stepresult").fetchone() == others


def test_a_runners_heartbeat_renews_its_leases_on_sqlite(database: sqlite3.Connection) -> None:
    """The embedded default serves self-hosted runners too: the batched renewal's query (the
    run-timeout check once multiplied a column by an interval, which SQLite cannot) runs."""
    [(_, _, path)] = list(database.execute("PRAGMA database_list"))
    run_id = uuid.uuid4()
    _insert(
        database,
        "runs_run",
        id=run_id.hex,  # how Django stores a UUID in SQLite
        status="running",
        step_count=2,
        idempotency_key=run_id.hex,
        lease_holder="runner:1:boot",
        lease_token=7,
        started_at="2026-01-01 00:00:00",
    )
    code = (
        "import uuid; from reqflo.runners.leases import Lease, leases_renew; "
        f"lease = Lease(run_id=uuid.UUID('{run_id}'), token=7, attempt=1); "
        "print([r.held for r in leases_renew([lease], holder='runner:1:boot')])"
    )
    renewed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The query ran (it raised "Invalid arguments for operator *" before). The lease is not
    # held here only because this file's rows have no workspace to join.
    assert renewed.returncode == 0, renewed.stderr
    assert renewed.stdout.strip().endswith("[False]")
