"""Benchmark the run pages with 100,000 runs and 1,000,000 step results seeded.

Measures, through Django's test client against a real PostgreSQL database (a throwaway
``test_<name>`` database it creates and drops): SQL queries and wall time for the run history
(first page, a filtered page, a page deep in by cursor), the run page of a 100-step run, the
live part of a running 50-step run, and the page of a 1,000-row batch. Query counts are taken
twice, with a few runs and after the bulk seed, to show they do not grow with the data.

The bulk rows are copies of real dispatched runs inserted with one ``INSERT … SELECT`` over
``generate_series`` each (status, time and environment varied); the 100-step run, the running
run and the batch go through the real services (dispatch, lease, checkpoint, finish). Run from
the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.run_pages [--runs 100000] [--steps-per-run 10] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@dataclass(frozen=True)
class Row:
    what: str
    queries_small: int
    queries_seeded: int
    median_ms: float
    p95_ms: float
    cpu_ms: float


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Return the median and p95 wall time and the median CPU time of this process, in ms.

    CPU time leaves out waiting for a core on a busy machine (and PostgreSQL's own time, which
    ``EXPLAIN ANALYZE`` shows separately).
    """
    samples = []
    cpu = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="bulk runs to seed")
    parser.add_argument("--steps-per-run", type=int, default=10, help="step results per bulk run")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL URL (the bench creates test_<name>)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        rows, counts = _run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(
        f"Seeded {counts['runs']:,} runs and {counts['steps']:,} step results; "
        f"{args.repeat} timed requests each; load average {os.getloadavg()[0]:.1f}."
    )
    print("| Page | SQL queries (few runs) | SQL queries (seeded) | median ms | p95 ms | CPU ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.what} | {row.queries_small} | {row.queries_seeded} "
            f"| {row.median_ms:.1f} | {row.p95_ms:.1f} | {row.cpu_ms:.1f} |"
        )


def _evidence(index: int) -> dict[str, Any]:
    """A realistic stored step: one attempt, a JSON response, two assertions (one failed)."""
    from reqflo.engine.results import (
        AssertionResult,
        AttemptResult,
        RequestRecord,
        ResponseRecord,
        StepResult,
    )

    body = f'{{"id": {index}, "items": [{{"sku": "MUG", "qty": 2}}], "total": "19.80"}}'
    attempt = AttemptResult(
        number=1,
        started_at="2026-11-30T12:00:00.000Z",
        duration_ms=12.5,
        request=RequestRecord(
            "GET", f"https://shop.example/orders/{index}", {"Accept": "*/*"}, None, 0
        ),
        response=ResponseRecord(
            200,
            "OK",
            "HTTP/1.1",
            {"Content-Type": "application/json"},
            body,
            len(body),
            False,
            11.0,
        ),
        error=None,
        assertions=[
            AssertionResult(0, "status_code", "equals", None, 200, 200, True, False, "ok"),
            AssertionResult(
                1, "json_path", "equals", "$.total", "19.80", "19.80", True, False, "ok"
            ),
        ],
        outcome="passed",
    )
    step = StepResult(
        index=index,
        step_id=f"s{index + 1}",
        name=f"s{index + 1}",
        status="passed",
        attempts=[attempt],
        duration_ms=12.5,
    )
    return step.to_dict()


def _run(args: argparse.Namespace) -> tuple[list[Row], dict[str, int]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys import services
    from reqflo.journeys.documents import check_document
    from reqflo.runners.leases import checkpoint_commit, lease_take, run_finish
    from reqflo.runners.services import batch_dispatch, run_dispatch
    from reqflo.runs.models import Run, RunStatus, StepResult, Trigger
    from reqflo.runs.selectors import run_facts_key
    from tests.factories import journey_document

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    staging = services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    other = services.environment_create(
        workspace=workspace, name="prod", base_url="https://p.example.test", values={}
    )
    journey = services.journey_create(
        workspace=workspace,
        author=user,
        checked=check_document(journey_document("Bench journey", steps=100)),
    )
    assert journey.head is not None

    def dispatch() -> Run:
        return run_dispatch(
            workspace=workspace,
            version=journey.head,
            environment=staging,
            trigger=Trigger.EDITOR,
            triggered_by=user,
        ).run

    # The 100-step run, through the real lease and checkpoints (with its digest chain).
    big = dispatch()
    lease = lease_take(run_id=big.pk)
    assert lease is not None
    for index in range(100):
        checkpoint_commit(
            lease, index=index, step_id=f"s{index + 1}", evidence=_evidence(index), snapshot={}
        )
    run_finish(lease, status=RunStatus.PASSED)
    # A running run with 50 steps stored, for the live part.
    running = dispatch()
    lease = lease_take(run_id=running.pk)
    assert lease is not None
    for index in range(50):
        checkpoint_commit(
            lease, index=index, step_id=f"s{index + 1}", evidence=_evidence(index), snapshot={}
        )
    # A 1,000-row batch; its children end passed or failed.
    batch = batch_dispatch(
        workspace=workspace,
        version=journey.head,
        environment=staging,
        rows=[{} for _ in range(1000)],
        trigger=Trigger.API,
    ).batch
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_run SET status = CASE WHEN batch_row %% 7 = 0 THEN 'failed' "
            "ELSE 'passed' END, started_at = now(), finished_at = now() WHERE batch_id = %s",
            [batch.pk],
        )

    client = Client()
    client.force_login(user)
    pages: dict[str, str] = {
        "History, first page": reverse("runs:list"),
        "History, filtered (failed on prod)": reverse("runs:list")
        + f"?status=failed&environment={other.pk}",
        "Run page, 100 steps": reverse("runs:detail", kwargs={"run_id": big.pk}),
        # As the polling page asks: it shows the 50 stored steps and the run's facts already.
        "Live part, running run (50 of 100 steps)": reverse(
            "runs:live", kwargs={"run_id": running.pk}
        )
        + f"?shown=50&facts={run_facts_key(Run.objects.get(pk=running.pk))}",
        # The poll that sees the facts change (started, retried, cancelling, ended) also sends
        # the header, facts, evidence, attempts and buttons, out of band.
        "Live part, facts changed (50 of 100 steps)": reverse(
            "runs:live", kwargs={"run_id": running.pk}
        )
        + "?shown=50",
        "Batch page, 1,000 rows": reverse("runs:batch", kwargs={"batch_id": batch.pk}),
    }
    headers = {what: {"HX-Request": "true"} for what in pages if what.startswith("Live part")}

    def count(url: str, what: str) -> int:
        client.get(url, headers=headers.get(what, {}))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers.get(what, {}))
        assert response.status_code == 200, (what, response.status_code)
        return len(captured.captured_queries)

    small = {what: count(url, what) for what, url in pages.items()}
    small["History, page 200 (by cursor)"] = small["History, first page"]

    _seed(args.runs, args.steps_per_run, template=big, other_environment=other.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE runs_run; ANALYZE runs_stepresult")
    # A cursor deep in the history: the 10,000th newest run (page 200 of 50).
    newest = Run.objects.filter(workspace=workspace).order_by("-created_at", "-id")
    deep = newest[min(9_999, newest.count() // 2)]
    from reqflo.runs.history import encode_cursor

    pages["History, page 200 (by cursor)"] = reverse("runs:list") + "?after=" + encode_cursor(deep)

    rows = []
    for what, url in pages.items():
        seeded = count(url, what)
        median, p95, cpu = _timed(
            lambda url=url, what=what: client.get(url, headers=headers.get(what, {})),
            args.repeat,
        )
        rows.append(Row(what, small[what], seeded, median, p95, cpu))
    counts = {"runs": Run.objects.count(), "steps": StepResult.objects.count()}
    _explain(workspace)
    return rows, counts


def _explain(workspace: Any) -> None:
    """Print the plan of the history's first page and of a page deep in, by cursor."""
    from reqflo.runs.history import RunFilters, encode_cursor, history_queryset

    runs = history_queryset(workspace=workspace, filters=RunFilters())
    print("EXPLAIN history first page:")
    print(runs[:51].explain(analyze=True))
    deep = runs[min(10_000, runs.count() // 2)]
    from django.db.models import Q

    from reqflo.runs.history import decode_cursor

    created, pk = decode_cursor(encode_cursor(deep))
    page = runs.filter(Q(created_at__lte=created) & (Q(created_at__lt=created) | Q(id__lt=pk)))
    print("EXPLAIN history page by cursor (10,000 runs in):")
    print(page[:51].explain(analyze=True))


def _seed(runs: int, steps: int, *, template: Any, other_environment: Any) -> None:
    """Insert ``runs`` finished copies of ``template`` and ``steps`` step results for each."""
    from django.db import connection

    from reqflo.runs.models import Run

    fields = [
        f
        for f in Run._meta.concrete_fields
        if f.column
        not in (
            "id",
            "created_at",
            "updated_at",
            "status",
            "environment_id",
            "started_at",
            "finished_at",
            "next_step",
            "batch_id",
            "batch_row",
            "idempotency_key",
        )
    ]
    columns = ", ".join(f.column for f in fields)
    copied = ", ".join(f"t.{f.column}" for f in fields)
    # Step results of a finished run cannot be inserted (reqflo/runs/triggers.py): insert the
    # runs running, their results, then finish them. The key marks the bench's rows.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO runs_run (id, created_at, updated_at, status, environment_id, "
            f"started_at, finished_at, next_step, idempotency_key, {columns}) "
            f"SELECT gen_random_uuid(), now() - (n || ' seconds')::interval, now(), 'running', "
            f"CASE WHEN n %% 3 = 0 THEN %s ELSE t.environment_id END, "
            f"now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval "
            f"+ interval '2 seconds', %s, 'bench-' || n, {copied} "
            f"FROM generate_series(1, %s) AS n, runs_run t WHERE t.id = %s",
            [other_environment, steps, runs, template.pk],
        )
        cursor.execute(
            "INSERT INTO runs_stepresult (run_id, index, step_id, status, evidence, checkpoint, "
            "lease_token, attempt, created_at, digest) "
            "SELECT r.id, i, 's' || (i + 1), 'passed', s.evidence, ''::bytea, 1, 1, now(), '' "
            "FROM runs_run r CROSS JOIN generate_series(0, %s - 1) AS i "
            "JOIN runs_stepresult s ON s.run_id = %s AND s.index = 0 "
            "WHERE r.idempotency_key LIKE 'bench-%%'",
            [steps, template.pk],
        )
        cursor.execute(
            "UPDATE runs_run SET status = CASE "
            "WHEN substr(idempotency_key, 7)::int %% 10 = 0 THEN 'failed' "
            "WHEN substr(idempotency_key, 7)::int %% 37 = 0 THEN 'error' ELSE 'passed' END "
            "WHERE idempotency_key LIKE 'bench-%%'",
            [],
        )


if __name__ == "__main__":
    main()
