"""Deleting a case or environment that a run used archives it instead.

Runs point at cases and environments with ``on_delete=PROTECT``; the runs here are real ones,
so the delete-or-archive path meets PostgreSQL's own foreign keys.
"""

from __future__ import annotations

from django.urls import reverse

from reqflo.journeys import services
from reqflo.journeys.models import Case, Environment, Journey
from reqflo.runs.models import Run, RunStatus
from tests.conftest import ClientAs
from tests.journeys.conftest import MakeJourney
from tests.journeys.runs import record_run


def _run_of(journey: Journey, environment: Environment, case: Case | None = None) -> Run:
    assert journey.head is not None
    return record_run(
        version=journey.head, environment=environment, status=RunStatus.PASSED, case=case
    )


def test_deleting_a_case_a_run_used_archives_it(
    make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey()
    case = services.case_create(journey=journey, name="Happy path", values={"q": "1"})
    run = _run_of(journey, staging, case)
    assert services.case_delete(case=case) == "archived"
    case.refresh_from_db()
    assert case.archived
    assert Run.objects.get(pk=run.pk).case_id == case.pk


def test_deleting_an_unused_case_still_deletes_it_when_runs_exist(
    make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey()
    used = services.case_create(journey=journey, name="Used", values={})
    unused = services.case_create(journey=journey, name="Unused", values={})
    _run_of(journey, staging, used)
    assert services.case_delete(case=unused) == "deleted"
    assert list(Case.objects.values_list("name", flat=True)) == ["Used"]


def test_deleting_an_environment_a_run_used_archives_it(
    make_journey: MakeJourney, staging: Environment
) -> None:
    _run_of(make_journey(), staging)
    assert services.environment_delete(environment=staging) == "archived"
    staging.refresh_from_db()
    assert staging.archived


def test_the_environments_page_says_a_used_environment_was_archived(
    client_as: ClientAs, make_journey: MakeJourney, staging: Environment
) -> None:
    _run_of(make_journey(), staging)
    response = client_as("owner").post(
        reverse("journeys:environment_delete", args=[staging.pk]), follow=True
    )
    html = response.content.decode()
    assert "staging was used by runs, so it was archived instead of deleted" in html
    assert 'data-name="staging" class="muted"' in html
    assert Environment.objects.filter(pk=staging.pk, archived=True).exists()


def test_the_cases_page_says_a_used_case_was_archived(
    client_as: ClientAs, make_journey: MakeJourney, staging: Environment
) -> None:
    journey = make_journey()
    case = services.case_create(journey=journey, name="Happy path", values={})
    _run_of(journey, staging, case)
    response = client_as("editor").post(
        reverse("journeys:case_delete", args=[case.pk]), HTTP_HX_REQUEST="true"
    )
    assert "Happy path was used by runs, so it was archived instead of deleted." in (
        response.content.decode()
    )
    assert Case.objects.filter(pk=case.pk, archived=True).exists()


def test_deleting_an_unused_environment_from_the_page_deletes_it(
    client_as: ClientAs, staging: Environment
) -> None:
    response = client_as("owner").post(
        reverse("journeys:environment_delete", args=[staging.pk]), follow=True
    )
    assert "Deleted environment staging." in response.content.decode()
    assert not Environment.objects.filter(pk=staging.pk).exists()
