"""In a real browser: a button swaps the step's form and only the list items it changed.

Issue 15 item 6: a 1,500-step journey edits as quickly as a 5-step one. The page keeps its step
list (the same DOM nodes, scrolled where they were) and puts in only the items an answer
carries; every other item is the node it was, renumbered when a step above it came or went.
Each item is tagged with a JavaScript property before a button: a replaced item loses it.
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

STEPS = 40


def _journey(workspace: Workspace, author: User, steps: int = STEPS) -> Journey:
    return services.journey_create(
        workspace=workspace,
        author=author,
        checked=check_document(samples.document("Swaps", steps=steps)),
    )


def tag_list_items(page: Page) -> None:
    """Mark the list and each of its items (a property no markup can carry)."""
    page.evaluate(
        """() => {
          const list = document.querySelector(".step-list ol");
          list.keptList = true;
          [...list.children].forEach((item) => { item.kept = true; });
        }"""
    )


def replaced_list_items(page: Page) -> list[int]:
    """Return the places of the items that are not the nodes tagged (new or replaced)."""
    result: dict[str, Any] = page.evaluate(
        """() => {
          const list = document.querySelector(".step-list ol");
          const items = [...list.children];
          return {
            keptList: list.keptList === true,
            replaced: items.map((item, k) => (item.kept ? -1 : k)).filter((k) => k >= 0),
          };
        }"""
    )
    assert result["keptList"], "the list itself was replaced"
    return result["replaced"]


def _settled(page: Page) -> None:
    expect(page.locator("#editor-form button[name='op'][value='save']")).to_be_enabled()
    expect(page.locator("#step-list-patch")).to_have_count(0)


def test_each_button_replaces_only_the_list_items_it_changed(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    links = step_list.get_by_role("link")
    expect(links).to_have_count(STEPS)

    # Picking a step: the old current item and the new one, no other; the list keeps its
    # scroll position.
    tag_list_items(page)
    step_list.locator("a[data-step-id='s30']").click()
    expect(page.locator("#steps-29-id")).to_have_value("s30")
    _settled(page)
    assert replaced_list_items(page) == [0, 29]
    expect(step_list.locator("a[data-step-id='s30']")).to_have_attribute("aria-current", "step")
    expect(step_list.locator("a[aria-current]")).to_have_count(1)
    scrolled = page.evaluate("document.querySelector('.step-list ol').scrollTop")
    assert scrolled > 0

    # An edit of the shown step reaches its item with the next button.
    tag_list_items(page)
    page.locator("#steps-29-name").fill("Thirtieth")
    page.locator("#step-29").get_by_role("button", name="Add assertion").click()
    expect(page.locator("#steps-29-assertions-1-type")).to_be_visible()
    _settled(page)
    assert replaced_list_items(page) == [29]
    expect(links.nth(29)).to_have_text("30. GET Thirtieth")
    assert page.evaluate("document.querySelector('.step-list ol').scrollTop") == scrolled

    # Removing it: one item goes, the next becomes current, those below are renumbered.
    tag_list_items(page)
    page.get_by_role("button", name="Remove step s30").click()
    expect(page.locator("#steps-29-id")).to_have_value("s31")
    _settled(page)
    assert replaced_list_items(page) == [29]
    expect(links).to_have_count(STEPS - 1)
    expect(page.locator("#steps-heading")).to_have_text(f"Steps ({STEPS - 1})")
    last = step_list.locator(f"a[data-step-id='s{STEPS}']")
    expect(last).to_have_attribute("data-step", str(STEPS - 2))
    expect(last).to_have_attribute("href", f"?step={STEPS - 2}")
    expect(last).to_have_text(f"{STEPS - 1}. GET s{STEPS}")
    expect(step_list.locator(f"li[data-step='{STEPS - 2}'] a")).to_have_attribute(
        "data-step-id", f"s{STEPS}"
    )

    # ↑ from the keyboard: the moved item comes in one place up (the one it passed is the node
    # it was, renumbered); the focus stays on ↑.
    tag_list_items(page)
    page.get_by_role("button", name="Move step s31 up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#steps-28-id")).to_have_value("s31")
    _settled(page)
    assert replaced_list_items(page) == [28]
    expect(links.nth(29)).to_have_text("30. GET s29")
    expect(page.get_by_role("button", name="Move step s31 up")).to_be_focused()

    # A drag: the dragged item leaves its place and comes in at the new one (shown there);
    # the item that was current is redrawn as not current.
    tag_list_items(page)
    dragged = step_list.locator("li:has(a[data-step-id='s5'])")
    dragged.evaluate("item => item.scrollIntoView({ block: 'start' })")  # both in view
    dragged.drag_to(step_list.locator("li:has(a[data-step-id='s10'])"))
    expect(page.locator("#steps-9-id")).to_have_value("s5")
    _settled(page)
    assert replaced_list_items(page) == [9, 28]
    expect(links.nth(9)).to_have_attribute("aria-current", "step")
    expect(links.nth(4)).to_have_text("5. GET s6")

    # Added and duplicated steps come in as new items; the list and the form agree on save.
    tag_list_items(page)
    page.get_by_role("button", name="Duplicate step s5").click()
    expect(page.locator("#steps-10-id")).to_have_value("s5-copy")
    _settled(page)
    assert replaced_list_items(page) == [9, 10]
    page.get_by_role("button", name="Add step").click()
    expect(page.locator(f"#steps-{STEPS}-id")).to_be_visible()
    _settled(page)
    listed = page.eval_on_selector_all(
        ".step-list ol a", "links => links.map((a) => [a.dataset.step, a.dataset.stepId])"
    )
    assert [int(index) for index, _ in listed] == list(range(STEPS + 1))
    # The parts no answer replaces keep their state: the current view's tab stays disabled.
    expect(page.locator("nav.tabs button[value='view_form']")).to_be_disabled()
    expect(page.locator("nav.tabs button[value='view_yaml']")).to_be_enabled()
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    saved = Journey.objects.get(pk=journey.pk).head.document["journey"]["steps"]
    assert [step["id"] for step in saved] == [step_id for _, step_id in listed]


def test_a_step_picked_from_the_keyboard_keeps_the_focus_in_the_list(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor, steps=6)
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.locator("a[data-step-id='s3']").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#steps-2-id")).to_have_value("s3")
    _settled(page)
    picked = step_list.locator("a[data-step-id='s3']")
    expect(picked).to_have_attribute("aria-current", "step")
    expect(picked).to_be_focused()
    # The next one along from the keyboard, as a keyboard user goes down the list.
    page.keyboard.press("Tab")
    expect(step_list.locator("a[data-step-id='s4']")).to_be_focused()


def test_after_partial_swaps_leaving_still_asks_about_unsaved_changes(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = _journey(workspace, editor, steps=6)
    dialogs = Dialogs(page)
    log_in(page, "editor@acme.test")
    url = reverse("journeys:journey_editor", args=[journey.pk])
    page.goto(url)
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    # Picking steps changes nothing: leaving does not ask.
    step_list.locator("a[data-step-id='s4']").click()
    _settled(page)
    expect(step_list.locator("a[data-step-id='s4']")).to_have_attribute("aria-current", "step")
    page.goto(url)
    assert dialogs.seen == []

    page.get_by_role("button", name="Move step s1 down").click()
    _settled(page)
    step_list.locator("a[data-step-id='s5']").click()
    _settled(page)
    expect(page.locator("#steps-4-id")).to_have_value("s5")
    page.get_by_role("navigation", name="Journey").get_by_role("link", name="History").click()
    assert dialogs.seen == ["confirm"]
    expect(page).to_have_url(f"{page.url.split('/journeys/')[0]}{url}")
    expect(step_list.locator("a").first).to_have_attribute("data-step-id", "s2")
