"""In a real browser: a 1,500-step journey opens, an edit works and saves (issue 15 item 6).

Not timed (bench/journeys_editor_large.py measures); this proves the page that the bench
measures is the one that works: one step's form, the list of all, edits kept across picks.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from bench.journeys_editor_large import large_document
from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEPS = 1500


@pytest.mark.slow
def test_a_1500_step_journey_opens_and_an_edit_works(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_document(large_document(STEPS))
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    expect(step_list.get_by_role("link")).to_have_count(STEPS)
    expect(page.locator("details.step")).to_have_count(1)
    size = page.evaluate("document.documentElement.outerHTML.length")
    assert size < 500_000, size

    # Pick step 1,000, edit it, pick another, come back: the edit is still there.
    step_list.locator("a[data-step-id='s999']").click()
    # 1,500-step answers on a loaded CI machine: up to 30 s, as the Save below.
    expect(page.locator("#steps-999-id")).to_have_value("s999", timeout=30_000)
    page.locator("#steps-999-name").fill("Edited far down")
    step_list.locator("a[data-step-id='s10']").click()
    expect(page.locator("#steps-10-id")).to_have_value("s10")
    step_list.get_by_role("link", name="1000. GET Edited far down").click()
    expect(page.locator("#steps-999-name")).to_have_value("Edited far down")
    page.locator("#step-999").get_by_role("button", name="Add assertion").click()
    expect(page.locator("#steps-999-assertions-1-type")).to_be_visible()
    page.locator("#steps-999-assertions-1-target").fill("$.id")
    page.locator("#steps-999-assertions-1-expected").fill("1")
    page.get_by_role("button", name="Add step").click()
    expect(page.locator(f"#steps-{STEPS}-id")).to_be_visible()

    page.get_by_role("button", name=f"Save as v{journey.head_number + 1}").click()
    expect(page.get_by_text(f"Saved v{journey.head_number + 1}.")).to_be_visible(timeout=30_000)
    steps = Journey.objects.get(pk=journey.pk).head.document["journey"]["steps"]
    assert len(steps) == STEPS + 1
    assert steps[999]["name"] == "Edited far down"
    assert len(steps[999]["assertions"]) == 2
    assert steps[0]["outputs"]["token"]["secret"] is True  # untouched steps kept as they were
