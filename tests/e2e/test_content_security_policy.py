"""In a real browser: the Content-Security-Policy blocks nothing the pages need.

Chromium reports every violation on the console; the pages are visited and used (htmx swaps,
the editor's script) and no violation may appear.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from tests.e2e.conftest import log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_run_under_the_policy_without_a_violation(
    page: Page, owner: User, workspace: Workspace
) -> None:
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    journey = services.journey_create(
        workspace=workspace, author=owner, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "owner@acme.test")
    for url in (
        reverse("core:home"),
        reverse("core:member_list"),
        reverse("journeys:journey_list"),
        reverse("journeys:case_list", args=[journey.pk]),
        reverse("journeys:journey_editor", args=[journey.pk]),
    ):
        page.goto(url)
    # An htmx request and swap on the editor: the Run check follows an edit.
    page.locator('[name="steps-0-request-url"]').fill("{{ env.base_url }}/{{ inputs.nope }}")
    page.locator('[name="steps-0-request-url"]').dispatch_event("change")
    expect(page.locator("#run-check")).to_contain_text("unknown input 'nope'")
    assert violations == []


def test_a_page_counts_as_ready_only_once_htmx_has_processed_it(page: Page, owner: User) -> None:
    """Browser tests wait for app.js's ready mark (conftest.UNTIL_READY); without it, a control
    used before htmx attached its handlers would do nothing, now and then."""
    log_in(page, "owner@acme.test")
    expect(page.locator("html")).to_have_attribute("data-ready", "")
    assert page.evaluate("typeof htmx !== 'undefined' && document.readyState !== 'loading'")
    visibility = "getComputedStyle(document.body).visibility"
    assert page.evaluate(visibility) == "visible"
    page.evaluate("document.documentElement.removeAttribute('data-ready')")
    assert page.evaluate(visibility) == "hidden"
