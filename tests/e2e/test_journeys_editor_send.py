"""In a real browser: Send a step of the unsaved journey on a real Celery worker, read the
response in the panel, and turn a value of it into a check (issue 15 item 1)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.runs.models import Run, Trigger
from tests.e2e.conftest import NewContext, log_in
from tests.e2e.test_journeys_editor_swaps import replaced_list_items, tag_list_items
from tests.runners.workers import Workers, region, workers
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Target, make_scenario, target

__all__ = ["make_scenario", "region", "target", "workers"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.slow
def test_an_editor_sends_a_step_reads_the_response_and_adds_a_check_from_a_value(
    page: Page,
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(region=region)
    journey = scenario.version.journey
    workers.start()

    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", kwargs={"journey_id": journey.pk}))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.get_by_role("link", name="profile").click()
    # An unsaved edit is what gets sent: the step's name.
    page.locator("#steps-1-name").fill("Who am I")
    page.locator("#step-1").get_by_test_id("send-step").click()

    panel = page.locator("#send-panel")
    expect(panel.get_by_test_id("send-status")).to_have_text("Passed", timeout=60_000)
    expect(panel.get_by_role("heading", name="Send: Who am I")).to_be_visible()
    expect(panel.get_by_test_id("send-before")).to_contain_text("login")
    expect(panel.get_by_test_id("send-response-status")).to_contain_text("200 OK")
    expect(panel.get_by_test_id("send-timing")).to_contain_text("ms")
    expect(panel.get_by_test_id("send-assertions").locator('tr[data-passed="true"]')).to_have_count(
        1
    )
    expect(step_list.locator("#send-mark-profile")).to_have_text("passed")
    expect(step_list.locator("#send-mark-login")).to_have_text("passed")
    run = Run.objects.get()
    assert (run.trigger, run.triggered_by, run.step_count) == (Trigger.SEND, editor, 2)
    assert target.count("/echo") == 0
    html = page.content()
    for secret in (API_KEY, TOKEN):
        assert secret not in html
    # Nothing was saved by sending: the form still holds the edit, the page still asks.
    expect(page.locator("#steps-1-name")).to_have_value("Who am I")

    # A value of the response becomes a check of the step, in the unsaved form.
    value = panel.locator('.pick[data-path="$.name"]')
    expect(value).to_have_text('"Ada"')
    value.click()
    page.get_by_role("menuitem", name='Check it equals "Ada"').click()
    expect(page.locator("#steps-1-assertions-1-target")).to_have_value("$.name")
    expect(page.locator("#steps-1-assertions-1-expected")).to_have_value("Ada")
    expect(page.locator("#steps-1-assertions-1-operator")).to_have_value("equals")
    expect(page.locator("#steps-1-name")).to_have_value("Who am I")
    # ...and as an output; the panel stayed as it was through the editor's swap.
    panel.locator('.pick[data-path="$.name"]').click()
    page.get_by_role("menuitem", name="Keep it as an output").click()
    expect(page.locator("#steps-1-outputs-0-path")).to_have_value("$.name")
    expect(page.locator("#steps-1-outputs-0-name")).to_have_value("name")
    expect(panel.get_by_test_id("send-status")).to_have_text("Passed")


@pytest.mark.slow
def test_a_sent_step_keeps_its_mark_renamed_moved_and_saved_and_its_copy_has_none(
    page: Page,
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(region=region)
    workers.start()
    log_in(page, "editor@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey_id})
    )
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.get_by_role("link", name="profile").click()
    page.locator("#step-1").get_by_test_id("send-step").click()
    expect(step_list.locator("#send-mark-profile")).to_have_text("passed", timeout=60_000)

    # Renamed, moved below the next step and duplicated, on screen: the mark goes with it.
    # The panel told the form which sends its list marks now: the move's answer carries only
    # the moved item, not the whole list again.
    tag_list_items(page)
    page.locator("#steps-1-id").fill("me")
    page.locator('#step-1 button[value="move_down:1"]').click()
    expect(page.locator("#steps-2-id")).to_have_value("me")
    expect(page.locator("#step-list-patch")).to_have_count(0)
    assert replaced_list_items(page) == [2]
    expect(step_list.locator("#send-mark-me")).to_have_text("passed")
    page.locator('#step-2 button[value="duplicate_step:2"]').click()
    expect(page.locator("#steps-3-id")).to_have_value("me-copy")
    expect(step_list.locator("#send-mark-me-copy")).to_have_text("")

    # Saved: the page reopens from v2, and the marks are where they were.
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    expect(step_list.get_by_role("link")).to_have_count(4)
    expect(step_list.locator("#send-mark-me")).to_have_text("passed")
    expect(step_list.locator("#send-mark-me-copy")).to_have_text("")
    expect(step_list.locator("#send-mark-login")).to_have_text("passed")
    expect(step_list.locator("#send-mark-echo")).to_have_text("")
    assert Run.objects.count() == 1


@pytest.mark.slow
def test_a_send_the_egress_policy_refuses_is_shown_in_the_panel(
    page: Page,
    owner: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(region=region, egress_allow_hosts=[])
    workers.start()
    log_in(page, "owner@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey_id})
    )
    page.locator("#step-0").get_by_test_id("send-step").click()
    panel = page.locator("#send-panel")
    expect(panel.get_by_test_id("send-error")).to_contain_text("egress", timeout=60_000)
    expect(page.locator("#send-mark-login")).to_have_text("error")
    assert target.count("/login") == 0
    assert API_KEY not in page.content()


def test_a_viewer_has_no_send(page: Page, viewer: User, make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    log_in(page, "viewer@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey_id})
    )
    expect(page.locator("#step-0")).to_be_visible()
    expect(page.get_by_test_id("send-step")).to_have_count(0)
    expect(page.locator("#send-panel")).to_have_count(0)


@pytest.mark.slow
def test_on_a_phone_the_editor_still_fits_after_a_send_and_the_answer_is_in_view(
    new_context: NewContext,
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(region=region)
    workers.start()
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "editor@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey_id})
    )
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="profile"
    ).click()
    page.locator("#step-1").get_by_test_id("send-step").click()
    panel = page.locator("#send-panel")
    status = panel.get_by_test_id("send-status")
    expect(status).to_have_text("Passed", timeout=60_000)
    expect(panel.get_by_test_id("send-body")).to_be_visible()
    # Checks in the form's words, header names as the server sent them.
    expect(panel.get_by_test_id("send-assertions")).to_contain_text("JSON value equals")
    expect(panel.get_by_test_id("send-assertions")).not_to_contain_text("json_path")
    name = panel.locator("th.header-name").first
    expect(name).to_have_css("text-transform", "none")
    # The answer is on screen (not 2,000 px below the Send button)...
    expect(status).to_be_in_viewport()
    # ...and a long header value or JSON line scrolls inside its box: nothing sticks out.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for control in ("#steps-1-request-url", "#send-panel [data-testid='send-body']"):
        box = page.locator(control).bounding_box()
        assert box is not None
        assert box["x"] >= 0, (control, box)
        assert box["x"] + box["width"] <= PHONE["width"], (control, box)


@pytest.mark.slow
def test_the_panel_says_why_an_earlier_step_of_a_send_did_not_pass(
    page: Page,
    owner: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(region=region, egress_allow_hosts=[])
    workers.start()
    log_in(page, "owner@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey_id})
    )
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="profile"
    ).click()
    page.locator("#step-1").get_by_test_id("send-step").click()
    panel = page.locator("#send-panel")
    expect(panel.locator(".send-result")).to_contain_text(
        "skipped because step 'login' did not pass", timeout=60_000
    )
    # ...and why login did not: the egress policy refused its host.
    login = panel.get_by_test_id("send-before").locator("li[data-step='login']")
    expect(login.get_by_test_id("send-before-why")).to_contain_text("egress")
    assert API_KEY not in page.content()
