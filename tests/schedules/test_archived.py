"""What a schedule runs goes away: archiving pauses it with a visible reason, by any path; a
delete that a schedule blocks is refused naming the schedule (nothing is archived quietly)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from reqflo.journeys.models import Case, Environment, Journey
from reqflo.journeys.services import case_create, environment_create
from reqflo.runs.models import Run
from reqflo.schedules.models import Schedule
from reqflo.schedules.ticks import schedules_tick
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario
from tests.schedules.helpers import later, make_schedule

pytestmark = pytest.mark.django_db


def _messages(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def _archive(scenario: Scenario, kind: str, client_as: ClientAs, schedule: Schedule) -> str:
    """Archive the schedule's journey, environment or case through its page; return its name."""
    if kind == "journey":
        journey = scenario.version.journey
        url = reverse("journeys:journey_archive", args=[journey.pk])
        client_as("editor").post(url, {"archived": "1"})
        return journey.name
    if kind == "environment":
        url = reverse("journeys:environment_archive", args=[scenario.environment.pk])
        client_as("owner").post(url, {"archived": "1"})
        return scenario.environment.name
    assert schedule.case is not None
    client_as("editor").post(reverse("journeys:case_archive", args=[schedule.case.pk]))
    return schedule.case.name


@pytest.mark.parametrize("kind", ["journey", "environment", "case"])
def test_archiving_what_a_schedule_runs_pauses_it_saying_why(
    make_scenario: MakeScenario, client_as: ClientAs, kind: str
) -> None:
    scenario = make_scenario()
    case = case_create(journey=scenario.version.journey, name="smoke", values={})
    schedule = make_schedule(scenario, case=case)
    name = _archive(scenario, kind, client_as, schedule)
    schedule.refresh_from_db()
    reason = f"Paused: its {kind} {name} was archived. Restore it, then resume."
    assert (schedule.paused, schedule.paused_reason) == (True, reason)
    assert schedules_tick(later(timezone.now(), 3600)).dispatched == 0
    assert not Run.objects.exists()
    viewer = client_as("viewer")
    for page in (reverse("schedules:list"), reverse("schedules:detail", args=[schedule.pk])):
        assert reason in viewer.get(page).content.decode()
    # Resuming is refused, in words, until it is restored.
    resume = reverse("schedules:pause", args=[schedule.pk])
    refused = client_as("editor").post(resume, {"resume": "1"})
    assert f"Restore the {kind} {name} first: it is archived." in _messages(refused)
    schedule.refresh_from_db()
    assert schedule.paused


def test_a_journey_archived_by_another_path_is_paused_by_the_tick(
    make_scenario: MakeScenario, client_as: ClientAs
) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario)
    Journey.objects.filter(pk=scenario.version.journey.pk).update(archived=True)
    report = schedules_tick(later(timezone.now(), 1))
    assert report.dispatched == 0
    assert not Run.objects.exists()
    schedule.refresh_from_db()
    assert schedule.paused
    assert "was archived" in schedule.paused_reason
    # Restored and resumed: it runs again, and the reason is gone.
    Journey.objects.filter(pk=scenario.version.journey.pk).update(archived=False)
    client_as("editor").post(reverse("schedules:pause", args=[schedule.pk]), {"resume": "1"})
    schedule.refresh_from_db()
    assert (schedule.paused, schedule.paused_reason) == (False, "")
    assert schedules_tick(later(timezone.now(), 1)).dispatched == 1


def test_deleting_an_environment_or_case_a_schedule_uses_is_refused_naming_it(
    make_scenario: MakeScenario, client_as: ClientAs
) -> None:
    scenario = make_scenario()
    spare = environment_create(
        workspace=scenario.workspace, name="spare", base_url="http://127.0.0.1:9", values={}
    )
    case = case_create(journey=scenario.version.journey, name="smoke", values={})
    make_schedule(scenario, name="Nightly", environment=spare, case=case)
    deleted = client_as("owner").post(reverse("journeys:environment_delete", args=[spare.pk]))
    assert _messages(deleted) == [
        "spare is used by schedule 'Nightly': nothing was deleted. Give it another environment "
        "or delete it first."
    ]
    spare.refresh_from_db()
    assert not spare.archived
    deleted = client_as("editor").post(reverse("journeys:case_delete", args=[case.pk]))
    assert "smoke is used by schedule 'Nightly': nothing was deleted." in _messages(deleted)[0]
    assert Case.objects.filter(pk=case.pk, archived=False).exists()
    # Once no schedule uses it, it is deleted (no run used it).
    Schedule.objects.all().delete()
    deleted = client_as("owner").post(reverse("journeys:environment_delete", args=[spare.pk]))
    assert _messages(deleted) == ["Deleted environment spare."]
    assert not Environment.objects.filter(pk=spare.pk).exists()
