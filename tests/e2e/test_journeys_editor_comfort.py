"""In a real browser: the editor keeps edits, suggests where the cursor is, and waits to scold.

Issue 15 items 2 (no edit is lost), 3 (suggestions where the cursor is) and 4 (errors when
they help).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Dialog, Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text
from reqflo.journeys.models import Journey
from tests.e2e.conftest import log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login_journey(workspace: Workspace, author: User) -> Journey:
    return services.journey_create(
        workspace=workspace, author=author, checked=check_text(samples.LOGIN_YAML)
    )


def _long_journey(workspace: Workspace, author: User, steps: int = 6) -> Journey:
    """A journey whose every step keeps a token, so later steps have references to offer."""
    rows: list[dict[str, Any]] = [
        samples.step(f"s{n}", path=f"/p{n}", outputs={f"token{n}": {"from": "body", "path": "$.t"}})
        for n in range(1, steps + 1)
    ]
    return services.journey_create(
        workspace=workspace,
        author=author,
        checked=check_document(samples.document("Long", steps=rows)),
    )


class Dialogs:
    """Records every dialog the page opens and answers it with ``accept`` (True or False)."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        self.accept = False
        page.on("dialog", self._answer)

    def _answer(self, dialog: Dialog) -> None:
        self.seen.append(dialog.type)
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


def _history_tab(page: Page) -> Any:
    return page.get_by_role("navigation", name="Journey").get_by_role("link", name="History")


# --- Item 2: no edit is lost ----------------------------------------------------------------------


def test_leaving_with_unsaved_edits_asks_first_and_a_refusal_keeps_them(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    url = reverse("journeys:journey_editor", args=[journey.pk])
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(url)

    # Nothing edited yet: the History tab opens without a question.
    _history_tab(page).click()
    expect(page.locator("#version-1")).to_be_visible()
    assert dialogs.seen == []
    page.goto(url)

    page.locator("#journey-description").fill("Half-way through a change")
    _history_tab(page).click()
    assert dialogs.seen == ["confirm"]
    expect(page).to_have_url(f"{page.url.split('/journeys/')[0]}{url}")
    expect(page.locator("#journey-description")).to_have_value("Half-way through a change")

    # Any link asks, not only the tabs (here: the main navigation).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    assert dialogs.seen == ["confirm", "confirm"]
    expect(page.locator("#journey-description")).to_have_value("Half-way through a change")

    # Closing or reloading the page gets the browser's own prompt; staying keeps the edit.
    with page.expect_event("dialog") as prompt:
        page.close(run_before_unload=True)
    assert prompt.value.type == "beforeunload"
    expect(page.locator("#journey-description")).to_have_value("Half-way through a change")


def test_leaving_after_an_edit_is_allowed_once_the_user_agrees(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    dialogs = Dialogs(page)
    dialogs.accept = True
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    # A button that changes the journey (htmx swaps the form) is an unsaved edit too.
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-1-id")).to_have_value("step-2")
    _history_tab(page).click()
    expect(page.locator("#version-1")).to_be_visible()
    # One question only: agreeing to leave does not bring the browser's prompt as well.
    assert dialogs.seen == ["confirm"]
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_a_refused_save_keeps_every_field_and_a_good_save_leaves_freely(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.locator("#journey-description").fill("Kept after a refusal")
    page.locator("#steps-0-request-url").fill("{{ env.base_url }}/sign-in")
    page.locator("#steps-0-request-body").fill('{"email": "a@example.test",')
    page.locator("#save-message").fill("Rename the login path")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.locator("#save-problems")).to_contain_text("steps[0].request.json")
    expect(page.locator("#journey-description")).to_have_value("Kept after a refusal")
    expect(page.locator("#steps-0-request-url")).to_have_value("{{ env.base_url }}/sign-in")
    expect(page.locator("#steps-0-request-body")).to_have_value('{"email": "a@example.test",')
    expect(page.locator("#save-message")).to_have_value("Rename the login path")

    # Still unsaved after the refusal: leaving asks.
    _history_tab(page).click()
    assert dialogs.seen == ["confirm"]
    expect(page.locator("#journey-description")).to_have_value("Kept after a refusal")

    page.locator("#steps-0-request-body").fill('{"email": "a@example.test"}')
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    assert dialogs.seen == ["confirm"], "a save that went through leaves without a prompt"
    _history_tab(page).click()
    expect(page.locator("#version-2")).to_be_visible()
    assert dialogs.seen == ["confirm"]
    journey.refresh_from_db()
    assert journey.head.document["journey"]["description"] == "Kept after a refusal"


@pytest.mark.parametrize("fault", ["unreachable", "server error"])
def test_a_failed_request_says_the_edits_are_still_here_not_to_reload(
    page: Page, editor: User, workspace: Workspace, fault: str
) -> None:
    """Reqflo down or failing mid-edit: the message says the edits are kept (reloading would
    lose them), and once it answers again a save keeps every one."""
    journey = _login_journey(workspace, editor)
    log_in(page, "editor@acme.test")
    url = reverse("journeys:journey_editor", args=[journey.pk])
    page.goto(url)
    page.locator("#journey-description").fill("Typed while the server was away")

    def failing(route: Any) -> None:
        if fault == "unreachable":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=500, body="Server Error")

    page.route(f"**{url}", failing)
    page.get_by_role("button", name="Add step").first.click()
    note = page.locator("#messages .message-error")
    expect(note).to_contain_text("Your unsaved edits are still on this page")
    expect(note).not_to_contain_text("Reload")
    expect(page.locator("#journey-description")).to_have_value("Typed while the server was away")

    page.unroute(f"**{url}")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    journey.refresh_from_db()
    assert journey.head.document["journey"]["description"] == "Typed while the server was away"


# --- Item 3: suggestions where the cursor is ------------------------------------------------------


def _box_is_under(page: Page, field_selector: str) -> None:
    """Assert the suggestions box sits just under the field (or just above it when there is no
    room below in the viewport), from its left edge, in view."""
    field = page.locator(field_selector).bounding_box()
    box = page.locator("#suggestions").bounding_box()
    assert field is not None
    assert box is not None
    viewport = page.viewport_size
    assert viewport is not None
    field_bottom = field["y"] + field["height"]
    under = 0 <= box["y"] - field_bottom <= 8
    no_room_below = field_bottom + box["height"] > viewport["height"]
    above = no_room_below and 0 <= field["y"] - (box["y"] + box["height"]) <= 8
    assert under or above, (box, field)
    assert abs(box["x"] - field["x"]) <= 8, (box, field)
    assert box["y"] >= 0, "the box is in view"
    assert box["y"] + 20 <= viewport["height"], "the box is in view"


def test_suggestions_open_next_to_the_field_of_step_3_and_answer_the_keyboard(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _long_journey(workspace, editor)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="s3"
    ).click()
    url = page.locator("#steps-2-request-url")
    expect(url).to_be_visible()
    url.fill("")
    url.press_sequentially("{{ env.base_url }}/p3?t={{ steps.s")
    options = page.locator("#suggestions [role=option]")
    # Step 3 sees steps 1 and 2 (an output, status, body and headers each), never itself.
    expect(options).to_have_count(8)
    expect(page.locator("#suggestions button[data-ref='steps.s2.outputs.token2']")).to_have_count(1)
    expect(page.locator("#suggestions button[data-ref^='steps.s3.']")).to_have_count(0)
    _box_is_under(page, "#steps-2-request-url")

    # Down, down, up picks the first; Enter takes it without submitting the form.
    url.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    url.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(url).to_have_attribute("aria-activedescendant", "suggestion-2")
    url.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    first = options.nth(0).locator("button").get_attribute("data-ref")
    assert first == "steps.s1.outputs.token1"
    url.press("Enter")
    expect(url).to_have_value("{{ env.base_url }}/p3?t={{ steps.s1.outputs.token1 }}")
    expect(options).to_have_count(0)
    expect(url).to_be_focused()

    # Enter with none picked takes the first, the best match (a verifier's Enter refreshed).
    url.press_sequentially("&b={{ env.bas")
    expect(options).not_to_have_count(0)
    url.press("Enter")
    expect(url).to_have_value(
        "{{ env.base_url }}/p3?t={{ steps.s1.outputs.token1 }}&b={{ env.base_url }}"
    )
    expect(options).to_have_count(0)

    # Escape closes the box and leaves the text as typed.
    url.press_sequentially("&u={{ env")
    expect(options).not_to_have_count(0)
    url.press("Escape")
    expect(options).to_have_count(0)
    expect(url).to_have_value(
        "{{ env.base_url }}/p3?t={{ steps.s1.outputs.token1 }}&b={{ env.base_url }}&u={{ env"
    )


def test_suggestions_follow_the_field_after_htmx_swaps_the_form(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _long_journey(workspace, editor, steps=3)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    # Two swaps of the whole form: a new step, then a row in it.
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-3-id")).to_be_visible()
    page.locator("#step-3").get_by_role("button", name="Add assertion").click()
    expected = page.locator("#steps-3-assertions-1-expected")
    expect(expected).to_be_visible()
    expected.scroll_into_view_if_needed()
    expected.press_sequentially("{{ steps.s3")
    option = page.locator("#suggestions button[data-ref='steps.s3.outputs.token3']")
    expect(option).to_be_visible()
    _box_is_under(page, "#steps-3-assertions-1-expected")
    expected.press("ArrowDown")
    expected.press("Enter")
    expect(expected).to_have_value("{{ steps.s3.outputs.token3 }}")

    # The box moves with the field being typed in: the headers of the same step now.
    page.locator("#step-3").get_by_role("button", name="Add header").click()
    headers = page.locator("#steps-3-request-headers-0-value")
    headers.press_sequentially("Bearer {{ steps.s1")
    expect(page.locator("#suggestions button[data-ref='steps.s1.outputs.token1']")).to_be_visible()
    _box_is_under(page, "#steps-3-request-headers-0-value")
    page.locator("#suggestions button[data-ref='steps.s1.outputs.token1']").click()
    expect(headers).to_have_value("Bearer {{ steps.s1.outputs.token1 }}")
    expect(headers).to_be_focused()


# --- Item 4: errors when they help ----------------------------------------------------------------


def test_a_new_empty_row_is_not_an_error_until_the_user_leaves_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add variable").click()
    name = page.locator("#variables-0-name")
    expect(name).to_be_visible()
    # The Run check knows the row is incomplete, but says nothing about it yet.
    pending = page.locator("#run-check .issue[data-anchor='variables-0-name']")
    expect(pending).to_have_count(1)
    expect(pending).to_be_hidden()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-message")).to_have_count(0)

    # Visiting the field and leaving it empty makes it an error.
    name.focus()
    name.press("Tab")
    expect(pending).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#variables-0-name + .field-message")).to_be_visible()


def test_a_half_typed_reference_waits_until_the_field_is_left(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    url = page.locator("#steps-0-request-url")
    url.fill("")
    url.press_sequentially("{{ env.base_url }}/login?x={{ inputs.em")
    page.keyboard.press("Escape")  # close the suggestions, stay in the field
    # The Run check ran while typing (it does after a pause) and found the open "{{".
    issue = page.locator("#run-check .issue[data-anchor='steps-0-request-url']")
    expect(issue).to_have_count(1)
    expect(issue).to_be_hidden()
    expect(url).not_to_have_attribute("aria-invalid", "true")
    expect(url).to_be_focused()

    url.blur()
    expect(issue).to_be_visible()
    expect(page.locator("#steps-0-request-url + .field-message")).to_be_visible()
    expect(url).to_have_attribute("aria-invalid", "true")


def test_saving_shows_every_problem_at_once_even_on_rows_nobody_visited(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _login_journey(workspace, editor)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add input").click()
    name = page.locator("#inputs-1-name")
    expect(name).to_be_visible()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.locator("#save-problems .issue[data-anchor='inputs-1-name']")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#inputs-1-name + .field-message")).to_be_visible()
    # A later Run check (after another edit) keeps it shown: the save named it.
    page.locator("#journey-description").fill("More")
    page.locator("#journey-description").blur()
    expect(page.locator("#save-problems")).to_have_count(0)
    expect(page.locator("#run-check .issue[data-anchor='inputs-1-name']")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
