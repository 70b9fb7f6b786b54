"""Benchmark the journeys pages on a 200-step journey with 50 versions.

Measures, through Django's test client against a real PostgreSQL database (a throwaway
``test_<name>`` database it creates and drops): SQL queries and wall time for the editor (form
and YAML views), the history page, a version page, the v1→v50 diff page and a form save, plus
the pure diff of two 200-step versions. Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.journeys_pages [--repeat 20]
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

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STEPS = 200
VERSIONS = 50


@dataclass(frozen=True)
class Row:
    what: str
    queries: int
    median_ms: float
    p95_ms: float


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL URL (the bench creates test_<name>)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        rows = _run(args.repeat, CaptureQueriesContext)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(f"Journey with {STEPS} steps and {VERSIONS} versions; {args.repeat} timed runs each.")
    print("| Page or operation | SQL queries | median ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row.what} | {row.queries} | {row.median_ms:.1f} | {row.p95_ms:.1f} |")


def _run(repeat: int, capture: type) -> list[Row]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys import services
    from reqflo.journeys.diffs import diff_documents
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.editor import state_from_document
    from tests.journeys import samples

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    document = samples.document("Bench journey", steps=STEPS)
    journey = services.journey_create(
        workspace=workspace, author=user, checked=check_document(document)
    )
    first = document
    for number in range(2, VERSIONS + 1):
        document = samples.edited(document, description=f"revision {number}")
        # Every version changes one step too, so the v1→v50 diff has real work to do.
        document["journey"]["steps"][number]["request"]["url"] += f"?v={number}"
        services.journey_version_create(
            journey=journey,
            author=user,
            checked=check_document(document),
            base_number=number - 1,
        )
    journey.refresh_from_db()

    client = Client()
    client.force_login(user)
    client.get(reverse("journeys:journey_list"))  # warm the session and template caches
    pages = {
        "Editor, form view": reverse("journeys:journey_editor", args=[journey.pk]),
        "Editor, YAML view": reverse("journeys:journey_editor", args=[journey.pk]) + "?view=yaml",
        "History (50 versions)": reverse("journeys:journey_history", args=[journey.pk]),
        "Version page (v25)": reverse("journeys:version_detail", args=[journey.pk, 25]),
        "Diff page v1→v50": reverse("journeys:version_diff", args=[journey.pk]) + "?from=1&to=50",
        "Journeys list": reverse("journeys:journey_list"),
    }
    rows = []
    for what, url in pages.items():
        client.get(url)
        with capture(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (what, response.status_code)
        # Read the count now: the capture reads the connection's log lazily.
        queries = len(captured.captured_queries)
        median, p95 = _timed(lambda url=url: client.get(url), repeat)
        rows.append(Row(what, queries, median, p95))

    # A form save of the whole 200-step journey that changes nothing (validation + compare).
    data = samples.post_data(state_from_document(journey.head.document))
    data.update({"base_version": str(journey.head_number), "mode": "form", "op": "save"})
    editor_url = reverse("journeys:journey_editor", args=[journey.pk])
    with capture(connection) as captured:
        response = client.post(editor_url, data)
    assert response.status_code == 302, response.status_code
    queries = len(captured.captured_queries)
    median, p95 = _timed(lambda: client.post(editor_url, data), repeat)
    rows.append(Row("Save, no change (form POST)", queries, median, p95))

    last = journey.head.document
    median, p95 = _timed(lambda: diff_documents(first, last), repeat)
    rows.append(Row("diff_documents of two 200-step versions", 0, median, p95))
    return rows


if __name__ == "__main__":
    main()
