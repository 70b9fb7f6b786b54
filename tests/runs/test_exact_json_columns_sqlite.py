"""Exact JSON columns on the embedded default's SQLite (issue 13): the same numbers as written.

The app runs in a subprocess on a freshly migrated SQLite file (as the quick start does), writes
exact numbers, NaN and infinities to a run's inputs and a step result's evidence through the
ORM, and reports the columns' text and what the ORM reads back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.runs.test_immutability_sqlite import _insert

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.slow

EXACT = {
    "trail": "100.10",
    "digits": "0.1000000000000000055511151231257827",
    "big": "123456789012345678901234567890",
    "huge": "1e400",
    "beyond_numeric": "1e131072",
    "exponent": "1E+5",
    "negzero": "-0",
    "float": "0.1",
}

SCRIPT = """
import json, math, sys
import django
django.setup()
from django.db import connection
from reqflo.engine import numbers
from reqflo.runs.models import Run, StepResult

run_id, texts = sys.argv[1], json.loads(sys.argv[2])
values = {name: numbers.parse_number(text) for name, text in texts.items()}
Run.objects.filter(pk=run_id).update(inputs={**values, "nan": math.nan})
StepResult.objects.filter(run_id=run_id).update(evidence={"actual": values, "inf": -math.inf})
with connection.cursor() as cursor:
    cursor.execute("SELECT inputs FROM runs_run WHERE id = %s", [run_id.replace("-", "")])
    raw = cursor.fetchone()[0]
inputs = Run.objects.filter(pk=run_id).values_list("inputs", flat=True).get()
evidence = StepResult.objects.filter(run_id=run_id).values_list("evidence", flat=True).get()
shown = lambda data: {k: [type(v).__name__, numbers.text(v)] for k, v in data.items()}
print(json.dumps({
    "raw": raw,
    "inputs": shown({k: v for k, v in inputs.items() if k != "nan"}),
    "nan": inputs["nan"],
    "evidence": shown(evidence["actual"]),
    "inf": evidence["inf"],
}))
"""


def test_sqlite_stores_and_reads_exact_numbers_as_written(tmp_path: Path) -> None:
    path = tmp_path / "reqflo.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    run_id = uuid.uuid4()
    db = sqlite3.connect(path, isolation_level=None)
    _insert(db, "runs_run", id=run_id.hex, status="running", step_count=1, idempotency_key="k")
    _insert(db, "runs_stepresult", run_id=run_id.hex, index=0, step_id="s1", evidence="{}")
    db.close()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(run_id), json.dumps(EXACT)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "reqflo.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    for name, number in EXACT.items():
        assert f'"{name}":{number}' in got["raw"], got["raw"]
    for part in ("inputs", "evidence"):
        assert {name: text for name, (_, text) in got[part].items()} == EXACT
        assert all(kind != "str" for kind, _ in got[part].values()), got[part]
    assert (got["nan"], got["inf"]) == ("NaN", "-Infinity")
