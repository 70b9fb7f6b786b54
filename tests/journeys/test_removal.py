"""Deleting a case or environment that a run used archives it instead.

Runs do not exist yet. The runs app will point at cases and environments with
``on_delete=PROTECT``; ``RunStandIn`` is exactly such a row, with its own table for the length of
a test, so the delete-or-archive path runs against a real PostgreSQL foreign key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection, models
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.models import Case, Environment
from tests.conftest import ClientAs
from tests.journeys.conftest import MakeJourney


class RunStandIn(models.Model):
    """A run as the runs app will store one: it protects the case and environment it used."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, related_name="+")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        app_label = "journeys"
        db_table = "test_journeys_run_stand_in"

    def __str__(self) -> str:
        return f"run {self.pk}"


# Defining the class registered it; keep it out of every other test's deletes.
del apps.all_models["journeys"]["runstandin"]
apps.clear_cache()


@pytest.fixture
def runs(db: None) -> Iterator[type[RunStandIn]]:
    """Register the stand-in and create its table inside the test's transaction."""
    apps.register_model("journeys", RunStandIn)
    apps.clear_cache()
    with connection.schema_editor() as editor:
        editor.create_model(RunStandIn)
    yield RunStandIn
    # The table goes with the test's rolled-back transaction; the model leaves the registry.
    del apps.all_models["journeys"]["runstandin"]
    apps.clear_cache()


@pytest.fixture
def staging(workspace: Workspace) -> Environment:
    return services.environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )


def test_deleting_a_case_a_run_used_archives_it(
    runs: type[RunStandIn], make_journey: MakeJourney
) -> None:
    case = services.case_create(journey=make_journey(), name="Happy path", values={"q": "1"})
    run = runs.objects.create(case=case)
    assert services.case_delete(case=case) == "archived"
    case.refresh_from_db()
    assert case.archived
    assert runs.objects.get(pk=run.pk).case_id == case.pk


def test_deleting_an_unused_case_still_deletes_it_when_runs_exist(
    runs: type[RunStandIn], make_journey: MakeJourney
) -> None:
    journey = make_journey()
    used = services.case_create(journey=journey, name="Used", values={})
    unused = services.case_create(journey=journey, name="Unused", values={})
    runs.objects.create(case=used)
    assert services.case_delete(case=unused) == "deleted"
    assert list(Case.objects.values_list("name", flat=True)) == ["Used"]


def test_deleting_an_environment_a_run_used_archives_it(
    runs: type[RunStandIn], staging: Environment
) -> None:
    runs.objects.create(environment=staging)
    assert services.environment_delete(environment=staging) == "archived"
    staging.refresh_from_db()
    assert staging.archived


def test_the_environments_page_says_a_used_environment_was_archived(
    runs: type[RunStandIn], client_as: ClientAs, staging: Environment
) -> None:
    runs.objects.create(environment=staging)
    response = client_as("owner").post(
        reverse("journeys:environment_delete", args=[staging.pk]), follow=True
    )
    html = response.content.decode()
    assert "staging was used by runs, so it was archived instead of deleted" in html
    assert 'data-name="staging" class="muted"' in html
    assert Environment.objects.filter(pk=staging.pk, archived=True).exists()


def test_the_cases_page_says_a_used_case_was_archived(
    runs: type[RunStandIn], client_as: ClientAs, make_journey: MakeJourney
) -> None:
    case = services.case_create(journey=make_journey(), name="Happy path", values={})
    runs.objects.create(case=case)
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
