"""In a real browser: an editor schedules a journey and watches its state change live.

Ticks are driven from the test (``schedules_tick`` with the runs ended by hand) instead of
waiting for beat; real beat and worker processes are in tests/schedules/test_beat_processes.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from reqflo.journeys.documents import check_document
from reqflo.journeys.services import case_create, journey_create
from reqflo.runs.models import RunStatus
from reqflo.schedules.models import Schedule
from reqflo.schedules.ticks import schedules_tick
from tests.e2e.conftest import log_in
from tests.runs.fixtures import MakeScenario, make_scenario, target
from tests.schedules.helpers import finish, later, schedule_runs

__all__ = ["make_scenario", "target"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_editor_schedules_a_journey_and_sees_its_state_change(
    page: Page, editor: User, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario()
    journey = scenario.version.journey
    log_in(page, "editor@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedules").click()
    page.get_by_role("link", name="New schedule").click()

    form = page.locator("#schedule-form")
    form.get_by_label("Name").fill("Profile monitor")
    form.get_by_label("Journey").select_option(label=journey.name)
    form.get_by_label("Environment").select_option(label=scenario.environment.name)
    form.get_by_label("On a cron expression").check()
    form.locator("#id_cron").fill("every minute")
    form.get_by_role("button", name="Save schedule").click()
    # Refused in words, in place, with what was typed kept.
    expect(form.get_by_text("Write five fields")).to_be_visible()
    expect(form.get_by_label("Name")).to_have_value("Profile monitor")
    form.get_by_label("At an interval").check()
    form.get_by_label("Interval (seconds)").fill("60")
    form.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("heading", name="Profile monitor")).to_be_visible()
    expect(page.get_by_text("Schedule Profile monitor saved.")).to_be_visible()
    state = page.locator("#schedule-live [data-state]").first
    expect(state).to_have_text("No result yet")

    schedule = Schedule.objects.get(name="Profile monitor")
    now = timezone.now()
    schedules_tick(now)
    finish(schedule_runs(schedule)[0], RunStatus.FAILED)
    schedules_tick(later(now, 1))
    schedules_tick(later(now, 61))
    finish(schedule_runs(schedule)[1], RunStatus.FAILED)
    schedules_tick(later(now, 62))
    # The page polls its live part: the state changes without a reload.
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#schedule-live [data-state]").first).to_have_text(
        "Failing", timeout=15_000
    )
    expect(page.locator("#schedule-live")).to_contain_text("2 failed in a row")

    schedules_tick(later(now, 121))
    finish(schedule_runs(schedule)[2], RunStatus.PASSED, took_ms=310)
    schedules_tick(later(now, 122))
    expect(page.locator("#schedule-live [data-state]").first).to_have_text(
        "Passing", timeout=15_000
    )
    expect(page.locator("#schedule-live")).to_contain_text("33.3 % over 24 h")
    assert page.evaluate("window.__sameDocument") is True

    # Pause: no more runs; the list shows the state at a glance.
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert schedules_tick(later(now, 3600)).dispatched == 0
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedules").click()
    row = page.locator(f'[data-schedule="{schedule.pk}"]')
    expect(row).to_contain_text("Paused")
    expect(row).to_contain_text(journey.name)


def test_the_case_list_follows_the_journey_and_a_data_file_is_kept(
    page: Page, editor: User, make_scenario: MakeScenario, tmp_path: Path
) -> None:
    numbered = {
        "journey": {
            "name": "Numbered",
            "inputs": [{"name": "n", "type": "integer", "required": True}],
            "steps": [
                {
                    "id": "echo",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/echo?n={{ inputs.n }}"},
                }
            ],
        }
    }
    scenario = make_scenario(numbered)
    first = scenario.version.journey
    other = journey_create(
        workspace=scenario.workspace,
        author=scenario.owner,
        checked=check_document({"journey": {**numbered["journey"], "name": "Another"}}),
    )
    case_create(journey=first, name="Numbered case", values={"n": 1})
    case_create(journey=other, name="Another case", values={"n": 2})
    log_in(page, "editor@acme.test")
    page.goto(reverse("schedules:create"))

    form = page.locator("#schedule-form")
    cases = form.get_by_label("Case")
    form.get_by_label("Journey").select_option(label="Another")
    expect(cases.locator("option", has_text="Another case")).to_have_count(1)
    expect(cases.locator("option", has_text="Numbered case")).to_have_count(0)
    form.get_by_label("Journey").select_option(label="Numbered")
    expect(cases.locator("option", has_text="Numbered case")).to_have_count(1)
    expect(cases.locator("option", has_text="Another case")).to_have_count(0)

    form.get_by_label("Name").fill("Rows monitor")
    form.get_by_label("Environment").select_option(label=scenario.environment.name)
    cases.select_option(label="Numbered case")
    form.get_by_label("Interval (seconds)").fill("300")
    bad = tmp_path / "rows.csv"
    bad.write_text("n\n1\nseven\n")
    form.get_by_label("Data file").set_input_files(bad)
    form.get_by_role("button", name="Save schedule").click()
    expect(form.get_by_text("rows.csv row 2, column 'n'")).to_be_visible()
    expect(form.get_by_label("Name")).to_have_value("Rows monitor")
    bad.write_text("n\n1\n7\n")
    form.get_by_label("Data file").set_input_files(bad)
    form.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("heading", name="Rows monitor")).to_be_visible()
    expect(page.get_by_test_id("data-file")).to_contain_text("rows.csv, 2 rows")
    assert Schedule.objects.get(name="Rows monitor").data_rows == [{"n": "1"}, {"n": "7"}]
