"""The run pages read a fixed number of queries, however many runs, steps or rows there are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reqflo.runners.services import batch_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from reqflo.runs.selectors import run_facts_key
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario
from tests.runs.history_data import copies
from tests.runs.pages import PAGES_JOURNEY, queued_run

pytestmark = pytest.mark.django_db


def _queries(get: Callable[[], Any]) -> int:
    get()  # warm caches (session, templates)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    assert response.status_code in (200, 286)
    return len(captured.captured_queries)


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


def test_the_history_reads_as_many_queries_for_60_runs_as_for_1(
    client_as: ClientAs, scenario: Scenario
) -> None:
    run = queued_run(scenario)
    client = client_as("viewer")
    few = _queries(lambda: client.get(reverse("runs:list")))
    copies(run, [{"status": RunStatus.FAILED} for _ in range(60)])
    many = _queries(lambda: client.get(reverse("runs:list")))
    filtered = _queries(lambda: client.get(reverse("runs:list"), {"status": "failed"}))
    assert few == many == filtered
    assert many <= 10


def test_a_batch_page_reads_as_many_queries_for_40_rows_as_for_2(
    client_as: ClientAs, scenario: Scenario
) -> None:
    client = client_as("viewer")
    counts = []
    for rows in (2, 40):
        batch = batch_dispatch(
            workspace=scenario.workspace,
            version=scenario.version,
            environment=scenario.environment,
            rows=[{"password": str(n)} for n in range(rows)],
            trigger=Trigger.API,
        ).batch
        url = reverse("runs:batch", kwargs={"batch_id": batch.pk})
        counts.append(_queries(lambda url=url: client.get(url)))
    assert counts[0] == counts[1]
    assert counts[1] <= 10


def test_a_run_page_and_its_live_part_read_a_fixed_number_of_queries(
    client_as: ClientAs, scenario: Scenario
) -> None:
    run = queued_run(scenario)
    client = client_as("viewer")
    page = _queries(lambda: client.get(reverse("runs:detail", kwargs={"run_id": run.pk})))
    url = reverse("runs:live", kwargs={"run_id": run.pk})
    steady = _queries(
        lambda: client.get(url, {"facts": run_facts_key(run)}, headers={"HX-Request": "true"})
    )
    # The facts changed since the page showed them: the header, facts and buttons come too.
    changed = _queries(lambda: client.get(url, headers={"HX-Request": "true"}))
    assert page <= 10
    assert steady <= 8
    assert changed <= 12
    assert Run.objects.count() == 1


def _history_filters(run: Run, viewer_pk: int) -> dict[str, dict[str, str]]:
    day = run.created_at.date().isoformat()
    each = {
        "journey": {"journey": str(run.journey_version.journey_id)},
        "status": {"status": "failed"},
        "environment": {"environment": str(run.environment_id)},
        "runner": {"runner_kind": str(run.runner_kind)},
        "trigger": {"trigger": str(run.trigger)},
        "who": {"who": str(viewer_pk)},
        "tag": {"tag": "smoke"},
        "since": {"since": day},
        "until": {"until": day},
    }
    return {**each, "all": {k: v for f in each.values() for k, v in f.items()}}


@pytest.mark.parametrize(
    "name",
    [
        "journey",
        "status",
        "environment",
        "runner",
        "trigger",
        "who",
        "tag",
        "since",
        "until",
        "all",
    ],
)
def test_every_history_filter_reads_as_many_queries_as_the_unfiltered_page(
    client_as: ClientAs,
    scenario: Scenario,
    personas: dict[str, Any],
    django_assert_num_queries: Any,
    name: str,
) -> None:
    run = queued_run(scenario)
    copies(run, [{"status": RunStatus.FAILED} for _ in range(5)])
    client = client_as("viewer")
    url = reverse("runs:list")
    unfiltered = _queries(lambda: client.get(url))
    params = _history_filters(run, personas["viewer"].pk)[name]
    client.get(url, params)  # warm caches
    with django_assert_num_queries(unfiltered):
        response = client.get(url, params)
    assert response.status_code == 200
    assert 'class="field-error"' not in response.content.decode()  # the filter was valid
