"""In a real browser: rows of the editor (issue 15 items 4 and 5): an error mark belongs to the
field the user left, and stays with its row when rows before it are added, removed or moved."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text
from tests.e2e.conftest import log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open(page: Page, workspace: Workspace, author: User) -> None:
    journey = services.journey_create(
        workspace=workspace, author=author, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))


def _marked(page: Page, field: str) -> None:
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field} + .field-message")).to_be_visible()


def _unmarked(page: Page, field: str) -> None:
    expect(page.locator(f"#{field}")).to_be_visible()
    expect(page.locator(f"#{field}")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field} + .field-message")).to_have_count(0)


def test_a_removed_row_takes_its_visited_mark_with_it(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    page.get_by_role("button", name="Add variable").click()
    page.locator("#variables-0-name").focus()
    page.locator("#variables-0-name").press("Tab")
    _marked(page, "variables-0-name")
    page.get_by_role("button", name="Add variable").click()
    _unmarked(page, "variables-1-name")  # new, nobody visited it

    # Row 0 goes; the untouched row moves up to 0 and must not inherit row 0's mark.
    page.locator("button[value='remove_variable:0']").click()
    expect(page.locator("#variables-1-name")).to_have_count(0)
    _unmarked(page, "variables-0-name")


def test_a_visited_mark_follows_its_row_when_a_row_before_it_goes(
    page: Page, editor: User, workspace: Workspace
) -> None:
    _open(page, workspace, editor)
    page.get_by_role("button", name="Add variable").click()
    expect(page.locator("#variables-0-name")).to_be_visible()
    page.get_by_role("button", name="Add variable").click()
    page.locator("#variables-1-name").focus()
    page.locator("#variables-1-name").press("Tab")
    _marked(page, "variables-1-name")
    _unmarked(page, "variables-0-name")

    page.locator("button[value='remove_variable:0']").click()
    expect(page.locator("#variables-1-name")).to_have_count(0)
    _marked(page, "variables-0-name")  # the visited row, now first


def test_a_visited_mark_moves_with_its_step(page: Page, editor: User, workspace: Workspace) -> None:
    rows = [samples.step(f"s{n}", path=f"/p{n}") for n in (1, 2, 3)]
    journey = services.journey_create(
        workspace=workspace,
        author=editor,
        checked=check_document(samples.document("Three", steps=rows)),
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    url = page.locator("#steps-0-request-url")
    url.fill("")
    url.press("Tab")
    _marked(page, "steps-0-request-url")

    # Dragged (op move_step) below the third step: the emptied URL is step 3's now, still marked.
    page.get_by_role("button", name="Move step s1 down").click()
    expect(page.locator("#steps-1-id")).to_have_value("s1")
    _marked(page, "steps-1-request-url")
    page.get_by_role("button", name="Move step s1 down").click()
    expect(page.locator("#steps-2-id")).to_have_value("s1")
    _marked(page, "steps-2-request-url")
    # Removing the first step renumbers it again; the mark follows.
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="s2"
    ).click()
    page.get_by_role("button", name="Remove step s2").click()
    expect(page.locator("#steps-0-id")).to_have_value("s3")  # the step that took its place
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="s1"
    ).click()
    expect(page.locator("#steps-1-id")).to_have_value("s1")
    _marked(page, "steps-1-request-url")
