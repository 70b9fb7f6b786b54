"""Benchmark exact JSON columns (issue 13): step evidence through ``ExactJSONField`` vs before.

Before: ``numbers.plain`` then Django's ``JSONField`` (``json.dumps`` into ``jsonb``, read back
by ``json.loads``). Now: ``numbers.dumps`` into ``json``, selected as text and read back by
``numbers.loads``. Per round and contender, ``--rows`` step results of a realistic evidence
shape (a 3-attempt step, 3.6 KB JSON bodies, 6 assertions; in every ``--exact-every``-th row
their numbers are exact decimals, else floats) are encoded, inserted in one ``executemany``
into a temporary table, selected back and decoded; each phase's median over ``--rounds``
alternating rounds. Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.exact_columns [--rows 2000] [--rounds 7] [--exact-every 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def timed(phase: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phase[name] = (time.perf_counter() - started) * 1000


def evidence(i: int, exact: bool) -> dict[str, Any]:
    from reqflo.engine import numbers

    body = json.dumps({"items": [{"sku": f"S{k}", "price": 19.99, "qty": k} for k in range(60)]})
    assertion = {
        "index": 0,
        "type": "json_path",
        "operator": "equals",
        "target": "$.total",
        "expected_missing": None,
        "actual_missing": None,
        "passed": True,
        "soft": False,
        "message": "",
    }
    # `12.10` is a Literal (a float would print 12.1); `12.5` is a float.
    number = numbers.parse_number(f"{i}.10" if exact else f"{i}.5")
    assertions = [
        {**assertion, "index": k, "expected": number if k < 2 else k, "actual": number}
        for k in range(6)
    ]
    response = {"status": 200, "reason": "OK", "headers": {"content-type": "application/json"}}
    attempt = {
        "number": 1,
        "request": {"method": "POST", "url": f"http://t/pay/{i}", "headers": {}, "body": body},
        "response": {**response, "body": body, "body_size": len(body), "elapsed_ms": 3.25},
        "assertions": assertions,
    }
    return {"index": 0, "step_id": "pay", "status": "passed", "attempts": [attempt] * 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--exact-every", type=int, default=1, help="every Nth row holds exact decimals (0: none)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")
    import django

    django.setup()
    from django.db import connection

    from reqflo.core.fields import exact_json_text
    from reqflo.engine import numbers

    every = args.exact_every
    rows = [evidence(i, exact=every > 0 and i % every == 0) for i in range(args.rows)]

    def before(cursor: Any, phase: dict[str, float]) -> None:
        with timed(phase, "encode"):
            texts = [(json.dumps(numbers.plain(row)),) for row in rows]
        with timed(phase, "insert"):
            cursor.executemany("INSERT INTO bench_before (evidence) VALUES (%s::jsonb)", texts)
        with timed(phase, "select"):
            cursor.execute("SELECT evidence::text FROM bench_before")
            fetched = cursor.fetchall()
        with timed(phase, "decode"):
            [json.loads(text) for (text,) in fetched]

    def after(cursor: Any, phase: dict[str, float]) -> None:
        with timed(phase, "encode"):
            texts = [(exact_json_text(row),) for row in rows]
        with timed(phase, "insert"):
            cursor.executemany("INSERT INTO bench_after (evidence) VALUES (%s)", texts)
        with timed(phase, "select"):
            cursor.execute("SELECT (evidence)::text FROM bench_after")
            fetched = cursor.fetchall()
        with timed(phase, "decode"):
            [numbers.loads(text) for (text,) in fetched]

    contenders: dict[str, Callable[[Any, dict[str, float]], None]] = {
        "before (jsonb)": before,
        "now (json)": after,
    }
    phases = ("encode", "insert", "select", "decode", "total")
    times: dict[str, dict[str, list[float]]] = {
        name: {p: [] for p in phases} for name in contenders
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_before (evidence jsonb)")
        cursor.execute("CREATE TEMP TABLE bench_after (evidence json)")
        size = len(exact_json_text(rows[0]))
        for _ in range(args.rounds):
            for name, run in contenders.items():
                cursor.execute("TRUNCATE bench_before, bench_after")
                phase: dict[str, float] = {}
                run(cursor, phase)
                phase["total"] = sum(phase.values())
                for key, ms in phase.items():
                    times[name][key].append(ms)
    print(
        f"{args.rows} step results of {size:,} bytes each, exact decimals in every "
        f"{every or 'no'} row, {args.rounds} rounds, median ms"
    )
    print(f"{'':16}" + "".join(f"{p:>10}" for p in phases))
    for name, measured in times.items():
        print(f"{name:16}" + "".join(f"{statistics.median(measured[p]):10.1f}" for p in phases))


if __name__ == "__main__":
    main()
