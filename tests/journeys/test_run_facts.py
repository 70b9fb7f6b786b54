"""The journeys list shows each journey's last run; the history counts the runs of each version.

Runs are real rows, dispatched and finished the way the runs app does it, and both pages read
them inside their existing queries, so the number of queries does not grow with the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.timezone import localtime

from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.journeys.selectors import version_list
from reqflo.runs.models import RunStatus
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney
from tests.journeys.runs import record_run

pytestmark = pytest.mark.django_db


def _row(html: str, marker: str) -> str:
    """Return the table row opening with ``marker`` (``data-slug="x"`` or ``id="version-2"``)."""
    found = re.search(rf"<tr [^>]*{re.escape(marker)}.*?</tr>", html, re.S)
    assert found is not None, f"no row with {marker}"
    return found.group(0)


def _status(row: str) -> str:
    found = re.search(r'data-run-status="([a-z]+)"', row)
    assert found is not None, f"no run status in {row}"
    return found.group(1)


def _new_version(journey: Journey, number: int) -> JourneyVersion:
    version = services.journey_version_create(
        journey=journey,
        author=None,
        checked=check_document(samples.document(journey.name, description=f"v{number}")),
        base_number=number - 1,
    )
    assert version is not None
    return version


def _page_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_shows_each_journeys_latest_run_or_never_run(
    client_as: ClientAs, make_journey: MakeJourney, staging: Environment
) -> None:
    flaky, steady, fresh = make_journey("Flaky"), make_journey("Steady"), make_journey("Fresh")
    record_run(version=flaky.head, environment=staging, status=RunStatus.PASSED)
    record_run(version=flaky.head, environment=staging, status=RunStatus.FAILED)
    record_run(version=steady.head, environment=staging, status=RunStatus.PASSED)

    html = client_as("viewer").get(reverse("journeys:journey_list")).content.decode()

    flaky_row = _row(html, f'data-slug="{flaky.slug}"')
    assert _status(flaky_row) == "failed"
    assert ">Failed</span>" in flaky_row
    assert _status(_row(html, f'data-slug="{steady.slug}"')) == "passed"
    fresh_row = _row(html, f'data-slug="{fresh.slug}"')
    assert _status(fresh_row) == "none"
    assert "never run" in fresh_row


def test_the_lists_last_run_is_the_newest_of_any_version(
    client_as: ClientAs, make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey("Checkout")
    first = journey.head
    record_run(version=_new_version(journey, 2), environment=staging, status=RunStatus.FAILED)
    latest = record_run(version=first, environment=staging, status=RunStatus.PASSED)

    html = client_as("viewer").get(reverse("journeys:journey_list")).content.decode()

    row = _row(html, f'data-slug="{journey.slug}"')
    assert _status(row) == "passed"
    assert date_filter(localtime(latest.created_at), "j M Y H:i") in row


def test_the_list_runs_as_many_queries_for_many_run_journeys_as_for_one(
    client_as: ClientAs,
    make_journey: MakeJourney,
    staging: Environment,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = client_as("viewer")
    url = reverse("journeys:journey_list")
    client.get(url)  # the first request of a session sets it up
    journey = make_journey("Journey 0")
    record_run(version=journey.head, environment=staging, status=RunStatus.PASSED)
    one_journey = _page_queries(client, url)
    for index in range(1, 6):
        journey = make_journey(f"Journey {index}")
        for status in (RunStatus.PASSED, RunStatus.FAILED):
            record_run(version=journey.head, environment=staging, status=status)

    with django_assert_num_queries(one_journey):
        html = client.get(url).content.decode()
    assert html.count('data-run-status="failed"') == 5


def test_history_counts_each_versions_runs_and_shows_the_latest_status(
    client_as: ClientAs, make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey("Checkout")
    first, second = journey.head, _new_version(journey, 2)
    _new_version(journey, 3)
    record_run(version=first, environment=staging, status=RunStatus.PASSED)
    record_run(version=first, environment=staging, status=RunStatus.FAILED)
    record_run(version=second, environment=staging, status=RunStatus.PASSED)

    url = reverse("journeys:journey_history", args=[journey.pk])
    html = client_as("viewer").get(url).content.decode()

    v1 = _row(html, 'id="version-1"')
    assert 'data-run-count="2"' in v1
    assert "2 runs, last" in v1
    assert _status(v1) == "failed"
    v2 = _row(html, 'id="version-2"')
    assert "1 run, last" in v2
    assert _status(v2) == "passed"
    assert 'data-run-count="0"' in _row(html, 'id="version-3"')


def test_version_list_carries_run_counts_and_latest_status(
    make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey("Checkout")
    first, second = journey.head, _new_version(journey, 2)
    for status in (RunStatus.FAILED, RunStatus.ERROR, RunStatus.PASSED):
        record_run(version=second, environment=staging, status=status)
    record_run(version=first, environment=staging, status=RunStatus.CANCELLED)

    facts = {v.number: (v.run_count, v.last_run_status) for v in version_list(journey=journey)}

    assert facts == {2: (3, "passed"), 1: (1, "cancelled")}


def test_history_runs_as_many_queries_for_many_run_versions_as_for_one(
    client_as: ClientAs,
    make_journey: MakeJourney,
    staging: Environment,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = client_as("viewer")
    client.get(reverse("journeys:journey_list"))  # the first request of a session sets it up
    journey = make_journey("Checkout")
    record_run(version=journey.head, environment=staging, status=RunStatus.PASSED)
    url = reverse("journeys:journey_history", args=[journey.pk])
    one_version = _page_queries(client, url)
    for number in range(2, 7):
        version = _new_version(journey, number)
        for status in (RunStatus.FAILED, RunStatus.PASSED):
            record_run(version=version, environment=staging, status=status)

    with django_assert_num_queries(one_version):
        html = client.get(url).content.decode()
    assert html.count("2 runs, last") == 5
