"""In a real browser: the step list beside the one step shown (issue 15 item 5, first part)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _journey(workspace: Workspace, author: User, steps: int) -> int:
    journey = services.journey_create(
        workspace=workspace,
        author=author,
        checked=check_document(samples.document("Many steps", steps=steps)),
    )
    return journey.pk


def test_the_step_list_shows_one_step_at_a_time_and_follows_the_buttons(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=5)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    expect(step_list.get_by_role("link")).to_have_count(5)
    expect(page.locator("#step-0")).to_be_visible()
    expect(page.locator("details.step:visible")).to_have_count(1)
    expect(step_list.get_by_role("link", name="s1")).to_have_attribute("aria-current", "step")
    # runs.css (loaded for the Send panel) styles a run's step list, not this one; the
    # section is no size container (under load Chromium once left its content without boxes).
    expect(page.locator("section.steps")).to_have_css("display", "block")
    expect(page.locator("section.steps")).to_have_css("container-type", "normal")

    step_list.get_by_role("link", name="s4").click()
    expect(page.locator("#step-3")).to_be_visible()
    expect(page.locator("details.step:visible")).to_have_count(1)
    page.locator("#steps-3-name").fill("Fourth")

    # A button swaps the form (htmx): the step stays shown, the edit stays made.
    page.locator("#step-3").get_by_role("button", name="Add assertion").click()
    expect(page.locator("#steps-3-assertions-1-type")).to_be_visible()
    expect(page.locator("#steps-3-name")).to_have_value("Fourth")
    expect(step_list.get_by_role("link", name="Fourth")).to_have_attribute("aria-current", "step")

    # Moving it up keeps it in view at its new place; a new step is shown once added.
    page.get_by_role("button", name="Move step s4 up").click()
    expect(page.locator("#steps-2-name")).to_have_value("Fourth")
    expect(page.locator("#step-2")).to_be_visible()
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-5-id")).to_be_visible()
    expect(page.locator("details.step:visible")).to_have_count(1)
    expect(step_list.get_by_role("link")).to_have_count(6)

    # Every step is still in the form: saving keeps the hidden ones as they were.
    page.locator("#steps-5-id").fill("s6")
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="Fourth"
    ).click()
    page.locator("#steps-2-assertions-1-target").fill("$.id")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    # The page the save reloads shows the step that was being edited.
    expect(page.locator("#step-2")).to_be_visible()
    expect(page.locator("details.step:visible")).to_have_count(1)
    steps = Journey.objects.get(pk=journey_id).head.document["journey"]["steps"]
    assert [step["id"] for step in steps] == ["s1", "s2", "s4", "s3", "s5", "s6"]
    assert steps[2]["name"] == "Fourth"
    assert len(steps[2]["assertions"]) == 2


def test_a_problem_in_a_hidden_step_is_marked_in_the_list_and_its_link_shows_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=4)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.get_by_role("link", name="s3").click()
    page.locator("#steps-2-request-url").fill("{{ env.base_url }}/{{ inputs.nope }}")
    step_list.get_by_role("link", name="s1").click()
    page.get_by_role("button", name="Save as v2").click()
    # Saved (an unknown input is the Run check's problem); the page shows s1, the step being
    # edited, without s3's form, and marks s3 in the list; the issue's link brings it back.
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    expect(page.locator("#steps-0-id")).to_be_visible()
    expect(page.locator("#step-2")).to_have_count(0)
    expect(step_list.get_by_role("link", name="s3")).to_have_class("has-error")
    page.locator("#run-check, #save-problems").get_by_role(
        "link", name="steps[2].request.url"
    ).first.click()
    expect(page.locator("#steps-2-request-url")).to_be_focused()
    expect(step_list.get_by_role("link", name="s3")).to_have_attribute("aria-current", "step")


def test_without_javascript_the_list_links_to_each_step(
    new_context: NewContext, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=3)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    expect(page.locator("details.step")).to_have_count(1)
    link = page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="s3"
    )
    expect(link).to_have_attribute("href", "?step=2")
    link.click()
    expect(page.locator("#steps-2-id")).to_have_value("s3")
    expect(link).to_have_attribute("aria-current", "step")


def test_on_a_wide_screen_the_list_sits_beside_the_step_and_above_it_otherwise(
    new_context: NewContext, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=8)
    for width, beside in ((1600, True), (900, False)):
        page = new_context(viewport={"width": width, "height": 900}).new_page()
        log_in(page, "editor@acme.test")
        page.goto(reverse("journeys:journey_editor", args=[journey_id]))
        step_list = page.get_by_role("navigation", name="Steps of this journey").bounding_box()
        step = page.locator("#step-0").bounding_box()
        assert step_list is not None
        assert step is not None
        if beside:
            assert step_list["x"] + step_list["width"] <= step["x"], (step_list, step)
            assert abs(step_list["y"] - step["y"]) <= 4, (step_list, step)
        else:
            assert step_list["y"] + step_list["height"] <= step["y"], (step_list, step)
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_headers_and_query_are_name_value_rows_a_bearer_value_on_one_line(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=2)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    step = page.locator("#step-0")
    step.get_by_role("button", name="Add header").click()
    step.get_by_role("button", name="Add header").click()
    page.locator("#steps-0-request-headers-0-name").fill("Accept")
    page.locator("#steps-0-request-headers-0-value").fill("application/json")
    name = page.locator("#steps-0-request-headers-1-name")
    value = page.locator("#steps-0-request-headers-1-value")
    name.fill("Authorization")
    token = (
        "Bearer {{ steps.login.outputs.token }}-{{ variables.tenant_suffix }}"
        "-{{ env.region }}-{{ run.id }}"
    )
    value.fill(token)
    # The value is one line, as tall as its name: a long token scrolls, it never wraps.
    name_box, value_box = name.bounding_box(), value.bounding_box()
    assert name_box is not None
    assert value_box is not None
    assert abs(value_box["height"] - name_box["height"]) <= 1, (name_box, value_box)
    assert abs(value_box["y"] - name_box["y"]) <= 1, "name and value side by side"
    assert value.evaluate("f => f.scrollWidth > f.clientWidth")
    # Query rows the same way; an empty new row is no error and saves as nothing.
    step.get_by_role("button", name="Add query parameter").click()
    page.locator("#steps-0-request-query-0-name").fill("page")
    page.locator("#steps-0-request-query-0-value").fill("2")
    step.get_by_role("button", name="Add query parameter").click()
    expect(page.locator("#steps-0-request-query-1-name")).to_be_visible()
    # Removing a row removes that row only.
    step.get_by_role("button", name="Remove header 1 of s1").click()
    expect(page.locator("#steps-0-request-headers-0-name")).to_have_value("Authorization")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    journey = Journey.objects.get(pk=journey_id)
    request = journey.head.document["journey"]["steps"][0]["request"]
    assert request["headers"] == {"Authorization": token}
    assert request["query"] == {"page": 2}
    # And back: the saved version shows the same rows (YAML round trip).
    expect(page.locator("#steps-0-request-headers-0-value")).to_have_value(token)
    expect(page.locator("#steps-0-request-query-0-value")).to_have_value("2")
    expect(page.locator("#steps-0-request-query-1-name")).to_have_count(0)


def test_dragging_a_step_in_the_list_moves_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=4)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.locator("li").nth(3).drag_to(step_list.locator("li").nth(0))
    expect(step_list.get_by_role("link")).to_have_text(
        ["1. GET s4", "2. GET s1", "3. GET s2", "4. GET s3"]
    )
    # The moved step is the one shown, and the move is an unsaved edit until saved.
    expect(page.locator("#steps-0-id")).to_have_value("s4")
    expect(page.locator("#step-0")).to_be_visible()
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    steps = Journey.objects.get(pk=journey_id).head.document["journey"]["steps"]
    assert [step["id"] for step in steps] == ["s4", "s1", "s2", "s3"]


def test_the_move_buttons_keep_the_keyboard_focus_on_the_moved_step(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey_id = _journey(workspace, editor, steps=3)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]))
    first = page.locator("#steps-0-id").input_value()
    page.get_by_role("button", name=f"Move step {first} down").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#steps-1-id")).to_have_value(first)
    moved = page.get_by_role("button", name=f"Move step {first} down")
    expect(moved).to_be_focused()
    page.keyboard.press("Enter")  # again, from the keyboard alone
    expect(page.locator("#steps-2-id")).to_have_value(first)
    # At the bottom its ↓ is off: the focus is on its ↑.
    expect(page.get_by_role("button", name=f"Move step {first} up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#steps-1-id")).to_have_value(first)
    expect(page.get_by_role("button", name=f"Move step {first} up")).to_be_focused()


def test_a_step_moves_to_a_position_typed_far_away(
    page: Page, editor: User, workspace: Workspace
) -> None:
    """A verifier at 1,500 steps had ↑/↓ and a drag within the list's viewport: no way to move
    a step 1,000 places. The step's Position field moves it there (Enter or Move)."""
    journey_id = _journey(workspace, editor, steps=300)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]) + "?step=1")
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    position = page.locator("#steps-1-position")
    expect(position).to_have_value("2")
    position.fill("250")
    position.press("Enter")
    expect(page.locator("#steps-249-id")).to_have_value("s2")
    expect(step_list.locator("li").nth(249)).to_contain_text("s2")
    expect(step_list.locator("li").nth(1)).to_contain_text("s3")
    expect(page.locator("#steps-249-position")).to_have_value("250")
    expect(page.get_by_role("button", name="Move step s2 to this position")).to_be_focused()
    # Past the end is the end; the Move button works as Enter does.
    page.locator("#steps-249-position").fill("9999")
    page.get_by_role("button", name="Move step s2 to this position").click()
    expect(page.locator("#steps-299-id")).to_have_value("s2")
    expect(step_list.locator("li").nth(299)).to_contain_text("s2")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    steps = Journey.objects.get(pk=journey_id).head.document["journey"]["steps"]
    assert [step["id"] for step in steps][-2:] == ["s300", "s2"]
    assert len(steps) == 300


@pytest.mark.parametrize("button", ["Duplicate", "Remove"])
def test_duplicate_and_remove_keep_the_keyboard_focus_on_the_step_shown_next(
    page: Page, editor: User, workspace: Workspace, button: str
) -> None:
    """A verifier pressed Enter on Duplicate (Remove): the focus fell to the page."""
    journey_id = _journey(workspace, editor, steps=4)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey_id]) + "?step=1")
    page.get_by_role("button", name=f"{button} step s2").focus()
    page.keyboard.press("Enter")
    shown = "s2-copy" if button == "Duplicate" else "s3"
    expect(page.locator("details.step .step-actions")).to_be_visible()
    expect(page.get_by_role("button", name=f"{button} step {shown}")).to_be_focused()
    # At the end, Remove shows the step before: its Remove gets the focus.
    if button == "Remove":
        page.locator(".step-list a[data-step='2']").click()
        page.get_by_role("button", name="Remove step s4").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Remove step s3")).to_be_focused()
