"""In a real browser: Save is answered in place like any other editor button (issue 15 item 6).

A save used to answer with HX-Redirect, a full reload of the editor (1.3 s at 1,500 steps);
now the answer is the saved version's page swapped in like any button's, with the header's
version, the message, the save bar and the form's base version updated, and an explicit
``reqflo:saved`` event that alone clears the unsaved-changes prompt.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey
from tests.e2e.conftest import log_in
from tests.e2e.test_journeys_editor_comfort import Dialogs
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _journey(workspace: Workspace, author: User, steps: int = 3) -> Journey:
    return services.journey_create(
        workspace=workspace,
        author=author,
        checked=check_document(samples.document("Save in place", steps=steps)),
    )


def _head_document(journey: Journey) -> dict[str, Any]:
    journey.refresh_from_db()
    assert journey.head is not None
    return journey.head.document


def _history_tab(page: Page) -> Any:
    return page.get_by_role("navigation", name="Journey").get_by_role("link", name="History")


def _mark_the_page(page: Page) -> None:
    """Leave a mark in the page's window: a reload (the old HX-Redirect) would lose it."""
    page.evaluate("window.__notReloaded = true")


def _still_the_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def test_a_save_is_answered_in_place_and_a_second_save_builds_on_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    header = page.locator("#journey-header")
    expect(header).to_contain_text("v1")
    _mark_the_page(page)

    # Edit the second step (picked in the list) and the journey's name, then save.
    page.locator(".step-list a[data-step='1']").click()
    expect(page.locator("#steps-1-id")).to_be_visible()
    page.locator("#steps-1-name").fill("Second, renamed")
    page.locator("#journey-name").fill("Saved in place")
    page.locator("#save-message").fill("First save")
    page.get_by_role("button", name="Save as v2").click()

    expect(page.get_by_text("Saved v2.")).to_be_visible()
    expect(header).to_contain_text("v2")
    expect(header.get_by_role("heading")).to_have_text("Saved in place")
    expect(page.get_by_role("button", name="Save as v3")).to_be_visible()
    expect(page.locator("input[name='base_version']")).to_have_value("2")
    expect(page.locator("#save-message")).to_have_value("")
    # The step being edited stays on screen; its list item shows the new name.
    expect(page.locator("#steps-1-name")).to_have_value("Second, renamed")
    expect(page.locator(".step-list a[data-step='1']")).to_contain_text("Second, renamed")
    expect(page.locator(".step-list a[aria-current='step']")).to_have_count(1)
    assert _still_the_same_page(page), "the save reloaded the page"
    assert _head_document(journey)["journey"]["steps"][1]["name"] == "Second, renamed"
    assert journey.head_number == 2

    # A second save on top of the first is no conflict: the form is based on v2 now.
    page.locator("#journey-description").fill("Second save")
    page.get_by_role("button", name="Save as v3").click()
    expect(page.get_by_text("Saved v3.")).to_be_visible()
    expect(page.locator("#conflict")).to_have_count(0)
    expect(header).to_contain_text("v3")

    # Nothing changed since: says so, and stays at v3.
    page.get_by_role("button", name="Save as v4").click()
    expect(page.get_by_text("No changes: v3 is still the latest version.")).to_be_visible()
    expect(header).to_contain_text("v3")
    assert _still_the_same_page(page)

    # Saved: leaving asks nothing.
    _history_tab(page).click()
    expect(page.locator("#version-3")).to_be_visible()
    assert dialogs.seen == []
    assert _head_document(journey)["journey"]["description"] == "Second save"
    assert journey.head_number == 3


def test_only_a_save_that_went_through_clears_the_unsaved_prompt_and_a_conflict_keeps_edits(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    _mark_the_page(page)

    # Someone else saves v2 while this page still edits v1.
    theirs = samples.document("Save in place", steps=3, description="Theirs")
    services.journey_version_create(
        journey=journey, author=editor, checked=check_document(theirs), base_number=1
    )
    page.locator("#journey-description").fill("Mine")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.locator("#conflict")).to_contain_text("Someone saved v2 while you were editing")
    expect(page.locator("#journey-description")).to_have_value("Mine")
    expect(page.locator("#journey-header")).to_contain_text("v1")  # the header waits for a save
    assert _still_the_same_page(page)

    # The refused save left the edit unsaved: leaving asks (and staying keeps it).
    _history_tab(page).click()
    assert dialogs.seen == ["confirm"]
    expect(page.locator("#journey-description")).to_have_value("Mine")

    # Saving again on purpose goes through and clears the prompt.
    page.get_by_role("button", name="Save as v3").click()
    expect(page.get_by_text("Saved v3.")).to_be_visible()
    expect(page.locator("#journey-header")).to_contain_text("v3")
    _history_tab(page).click()
    expect(page.locator("#version-3")).to_be_visible()
    assert dialogs.seen == ["confirm"]
    assert _head_document(journey)["journey"]["description"] == "Mine"


def test_an_edit_after_a_save_is_unsaved_again(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.locator("#journey-description").fill("Saved")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-3-id")).to_be_visible()
    _history_tab(page).click()
    assert dialogs.seen == ["confirm"]
    expect(page.locator("#steps-3-id")).to_be_visible()


def test_a_save_in_the_yaml_view_is_answered_in_place_too(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]) + "?view=yaml")
    _mark_the_page(page)
    text = page.locator("#yaml-text")
    text.fill(text.input_value().replace("name: Save in place", "name: Saved as YAML", 1))
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    expect(page.locator("#journey-header").get_by_role("heading")).to_have_text("Saved as YAML")
    expect(page.locator("#yaml-text")).to_contain_text("name: Saved as YAML")
    expect(page.get_by_role("button", name="Save as v3")).to_be_visible()
    assert _still_the_same_page(page)
    _history_tab(page).click()
    expect(page.locator("#version-2")).to_be_visible()
    assert dialogs.seen == []


@pytest.mark.parametrize("button", ["Add header", "Add assertion", "Add output"])
def test_typing_while_a_button_is_answered_is_not_lost(
    page: Page, editor: User, workspace: Workspace, button: str
) -> None:
    """A verifier clicked Add header and typed into the step's Name at once: the answer,
    carrying the Name as posted, swapped the form and the first keys were gone."""
    journey = _journey(workspace, editor, steps=2)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    name = page.locator("#steps-0-name")
    expect(name).to_be_visible()
    before = name.input_value()
    held: list[Any] = []
    editor_url = reverse("journeys:journey_editor", args=[journey.pk])
    page.route(
        f"**{editor_url}",
        lambda route: held.append(route) if route.request.method == "POST" else route.fallback(),
    )
    page.locator("#step-0").get_by_role("button", name=button).click()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the button's request was not sent"
    # The request is in flight (held): the user goes on typing in the Name field.
    name.click()
    name.press("End")
    name.press_sequentially(" typed meanwhile")
    held[0].continue_()
    page.unroute(f"**{editor_url}")
    # The answer is in (the new row is there) and what was typed is still in the field.
    rows = {
        "Add header": "#steps-0-request-headers-0-name",
        "Add assertion": "#steps-0-assertions-1-type",
        "Add output": "#steps-0-outputs-0-name",
    }
    expect(page.locator(rows[button])).to_be_attached()
    expect(name).to_have_value(before + " typed meanwhile")
    # And it is posted with the next button: the typed name is what the next answer shows.
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-2-id")).to_be_visible()
    page.locator(".step-list a[data-step='0']").click()
    expect(page.locator("#steps-0-name")).to_have_value(before + " typed meanwhile")


def test_a_button_pressed_while_suggestions_are_asked_for_does_its_work(
    page: Page, editor: User, workspace: Workspace
) -> None:
    """CI: "{{ inputs.email" typed in the URL, then Add assertion at once; the suggestions'
    request came from the form, so the button's request queued behind it, lost its `op`, and
    no assertion row ever came. Suggestions come from their own element now."""
    journey = _journey(workspace, editor, steps=2)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    held: list[Any] = []
    suggest_url = reverse("journeys:journey_suggest", args=[journey.pk])
    page.route(f"**{suggest_url}", lambda route: held.append(route))
    url = page.locator("#steps-0-request-url")
    url.fill("")
    url.press_sequentially("/{{ inp")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "no suggestions were asked for"
    # The suggestions' request is in flight (held): the user presses a button of the form.
    button = page.locator("#step-0").get_by_role("button", name="Add assertion")
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("#steps-0-assertions-1-type")).to_be_attached()
    for route in held:
        route.continue_()
    page.unroute(f"**{suggest_url}")
    expect(url).to_have_value("/{{ inp")
