"""In a real browser: a 1,500-step journey with 1,499 problems (issue 15).

The defect: pick step 1 ("login") of the 1,500-step journey, press ↓ three times, Remove. Every
other step now names an unknown step; the Run check listed each (568 KB in every answer). Now
the user sees one line with the count, the step list marks every step with an error, and
picking one shows that step's own problem, with its note under the field.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from bench.journeys_editor_large import large_document
from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEPS = 1500


@pytest.mark.slow
def test_1499_problems_show_as_a_count_and_each_step_shows_its_own(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_document(large_document(STEPS))
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.locator("a[data-step-id='login']").click()
    for position in range(3):
        page.get_by_role("button", name="Move step login down").click()
        moved = step_list.locator(f"a[data-step='{position + 1}']")
        expect(moved).to_have_attribute("data-step-id", "login")
    page.get_by_role("button", name="Remove step login").click()
    expect(step_list.get_by_role("link")).to_have_count(STEPS - 1)

    run_check = page.locator("#run-check")
    group = run_check.get_by_test_id("issue-group")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("unknown step")
    expect(group).to_contain_text(re.compile(r"in 1,4\d\d places"))
    # Every step with an error is marked in the list, far down too.
    expect(step_list.locator("a[data-step-id='s1200']")).to_have_class(re.compile("has-error"))

    # Pick one far down: its own problem is listed in full, with a note under its field.
    step_list.locator("a[data-step-id='s1200']").click()
    # 1,500-step answers under a loaded CI machine: as the Save below, up to 30 s.
    expect(page.locator("#step-1199 [id$='-id']").first).to_have_value("s1200", timeout=30_000)
    own = run_check.get_by_test_id("step-issues")
    expect(own).to_contain_text("unknown step")
    expect(page.locator("#step-details .field-message-error").first).to_contain_text("unknown step")
    size = page.evaluate("document.documentElement.outerHTML.length")
    assert size < 500_000, size

    # A place named on the grouped line opens its step.
    link = group.get_by_role("link").nth(1)
    target = re.search(r"steps\[(\d+)\]", link.inner_text())
    assert target is not None
    link.click()
    expect(page.locator(f"#step-{target.group(1)}")).to_be_visible()
