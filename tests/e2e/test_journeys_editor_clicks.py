"""In a real browser: a note shown under a field never moves the button being clicked.

Pressing a button takes the focus from the field being typed in on the press, before the
release; a problem noted under that field then (or a Run check answer arriving then) must not
push the button away from under the pointer, or the click lands elsewhere and is lost.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKEN = "/{{ steps.nope.outputs.x }}"


def _open(page: Page, workspace: Workspace, author: User) -> None:
    journey = services.journey_create(
        workspace=workspace, author=author, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))


def _type_a_broken_reference(page: Page) -> None:
    url = page.locator("#steps-0-request-url")
    url.fill("")
    url.press_sequentially(BROKEN)
    page.keyboard.press("Escape")  # no suggestions box over the buttons
    # The Run check has found it; the note waits for the user to leave the field.
    expect(page.locator("#run-check .issue[data-anchor='steps-0-request-url']")).to_have_count(1)
    expect(url).to_be_focused()


def _headers(page: Page) -> int:
    return page.locator("#steps-0-request-headers .pair-row").count()


@pytest.mark.parametrize("button", ["add-header", "add-query"])
def test_a_button_pressed_straight_from_a_field_with_a_problem_does_its_job(
    page: Page, editor: User, workspace: Workspace, button: str
) -> None:
    _open(page, workspace, editor)
    rows = page.locator(f"[data-testid='{button}']").locator("xpath=..").locator(".pair-row")
    before = rows.count()
    _type_a_broken_reference(page)
    page.get_by_test_id(button).click()  # a press and a release at one point, as a person does
    expect(rows).to_have_count(before + 1)
    # The note is shown too, once the click has landed.
    expect(page.locator("#steps-0-request-url + .field-message")).to_be_visible()


def test_save_pressed_straight_from_a_field_with_a_problem_is_answered(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    _type_a_broken_reference(page)
    # A reference to an unknown step is the Run check's warning, not a refusal: it saves.
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_role("button", name="Save as v3")).to_be_visible()
    expect(page.locator("#steps-0-request-url")).to_have_value(BROKEN)


def test_a_run_check_answer_arriving_during_a_press_does_not_move_the_button(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    before = _headers(page)
    url = page.locator("#steps-0-request-url")
    url.fill("")
    url.press_sequentially(BROKEN)
    page.keyboard.press("Escape")
    issue = page.locator("#run-check .issue[data-anchor='steps-0-request-url']")
    expect(issue).to_have_count(0)  # the check waits for a pause in typing
    add = page.get_by_test_id("add-header")
    add.scroll_into_view_if_needed()
    box = add.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # The Run check answers while the button is held down.
    expect(issue).to_have_count(1)
    page.wait_for_timeout(100)  # let whatever the answer changes settle
    page.mouse.up()
    expect(page.locator("#steps-0-request-headers .pair-row")).to_have_count(before + 1)
    expect(page.locator("#steps-0-request-url + .field-message")).to_be_visible()


def test_a_new_check_or_output_row_is_not_an_error_before_anyone_touches_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    page.get_by_role("button", name="Add assertion").click()
    target = page.locator("#steps-0-assertions-1-target")
    expect(target).to_have_value("")  # nothing half-written: "$." is only the placeholder
    expect(target).to_have_attribute("placeholder", re.compile(r"^\$\."))
    page.get_by_role("button", name="Add output").click()
    path = page.locator("#steps-0-outputs-1-path")
    expect(path).to_be_visible()
    # The Run check has looked at the new rows, and says nothing about them yet.
    pending = page.locator("#run-check .issue[data-anchor='steps-0-assertions-1-target']")
    expect(pending).to_be_hidden()
    for field in (target, path, page.locator("#steps-0-outputs-1-name")):
        expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-message")).to_have_count(0)
    # Filled in, the check row is simply good.
    target.fill("$.token")
    page.locator("#steps-0-assertions-1-expected").fill("abc")
    page.locator("#steps-0-assertions-1-expected").blur()
    expect(page.locator("#steps-0-assertions-1-target + .field-message")).to_have_count(0)


def test_a_header_value_typed_first_marks_its_own_row_and_keeps_the_row_in_one_line(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    page.get_by_test_id("add-header").click()
    value = page.locator("#steps-0-request-headers-2-value")
    value.press_sequentially("Bearer abc")
    # Known to the Run check, about the new row's name (not the first row's), and not shown
    # while the user is still filling the row in.
    issue = page.locator("#run-check .issue[data-anchor='steps-0-request-headers-2-name']")
    expect(issue).to_have_count(1)
    expect(issue).to_be_hidden()
    expect(page.locator("#steps-0-request-headers-0-name")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator(".field-message")).to_have_count(0)

    # A save names it: the note goes under the row; name, value and ✕ stay on one line.
    # The Run check answering as the value field loses the focus names the row too, on the
    # form the save is about to replace: wait for the save's own list before measuring.
    page.get_by_role("button", name="Save as v2").click()
    expect(
        page.locator("#save-problems .issue[data-anchor='steps-0-request-headers-2-name']")
    ).to_have_count(1)
    name = page.locator("#steps-0-request-headers-2-name")
    expect(name).to_have_attribute("aria-invalid", "true")
    note = page.locator("#steps-0-request-headers-2-name + .field-message")
    expect(note).to_contain_text("row 3 of the headers has a value but no name")
    # Measured in one go, so no later answer can swap a part between two measurements.
    note_box, *boxes = page.evaluate(
        """selectors => selectors.map(selector => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return {x: box.x, y: box.y, width: box.width, height: box.height};
        })""",
        [
            "#steps-0-request-headers-2-name + .field-message",
            "#steps-0-request-headers-2-name",
            "#steps-0-request-headers-2-value",
            "button[value='remove_header:0:2']",
        ],
    )
    for box in boxes:
        assert abs(box["y"] - boxes[0]["y"]) < 8, boxes
        assert note_box["y"] >= box["y"] + box["height"] - 1, (note_box, box)
    assert boxes[1]["width"] > 150


@pytest.mark.parametrize("width", [1440, 390])
def test_the_suggestions_box_moves_with_its_field_when_a_note_appears_above_it(
    new_context: NewContext, editor: User, workspace: Workspace, width: int
) -> None:
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    _open(page, workspace, editor)
    url = page.locator("#steps-0-request-url")
    url.fill("/{{ inputs.email")  # unclosed, like the "{{ " typed below: both are named
    field = page.locator("#steps-0-request-headers-1-value")
    field.click()  # leaves the URL: its note comes when the Run check answers
    field.press("End")
    field.press_sequentially(" {{ ")
    box = page.locator("#suggestions")
    expect(box.locator("button[data-ref]").first).to_be_visible()
    expect(page.locator("#steps-0-request-url + .field-message")).to_be_visible()
    page.wait_for_timeout(300)  # whatever the note moved has moved
    field_box, list_box = field.bounding_box(), box.bounding_box()
    assert field_box is not None
    assert list_box is not None
    below = list_box["y"] >= field_box["y"] + field_box["height"] - 1
    above = list_box["y"] + list_box["height"] <= field_box["y"] + 1
    assert below or above, (field_box, list_box)


def test_a_refused_save_names_every_problem_not_only_the_forms(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    page.get_by_test_id("add-header").click()
    page.locator("#steps-0-request-headers-2-value").fill("orphan")  # the form's own problem
    page.locator("#steps-0-request-url").fill("/{{ inputs.email")  # unclosed: the engine's
    page.get_by_role("button", name="Add assertion").click()
    page.locator("#steps-0-assertions-1-target").fill("$.[")  # not a JSONPath: the engine's
    page.locator("#steps-0-assertions-1-expected").fill("1")
    page.get_by_role("button", name="Save as v2").click()
    problems = page.locator("#save-problems")
    expect(problems).to_be_visible()
    for anchor in (
        "steps-0-request-headers-2-name",
        "steps-0-request-url",
        "steps-0-assertions-1-target",
    ):
        expect(problems.locator(f".issue[data-anchor='{anchor}']")).to_have_count(1)
        expect(page.locator(f"#{anchor} + .field-message")).to_be_visible()
        expect(page.locator(f"#{anchor}")).to_have_attribute("aria-invalid", "true")


def test_the_chosen_environment_stays_chosen_after_a_save_and_a_reload(
    page: Page, editor: User, workspace: Workspace
) -> None:
    for name in ("alpha", "beta"):
        services.environment_create(
            workspace=workspace, name=name, base_url=f"https://{name}.example.test", values={}
        )
    _open(page, workspace, editor)
    choice = page.locator("#check-environment")
    expect(choice.locator("option:checked")).to_have_text("alpha")  # the first, at first
    choice.select_option(label="beta")
    expect(page.get_by_test_id("env-values")).to_contain_text("beta.example.test")
    page.locator("#journey-description").fill("Against beta")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    expect(choice.locator("option:checked")).to_have_text("beta")
    page.reload()
    expect(page.locator("#check-environment option:checked")).to_have_text("beta")
    expect(page.get_by_test_id("env-values")).to_contain_text("beta.example.test")
