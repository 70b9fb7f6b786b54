"""In a real browser: the editor keeps every edit until it is saved (issue 15 item 2)."""

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
