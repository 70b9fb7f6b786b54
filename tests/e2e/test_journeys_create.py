"""In a real browser: create journeys from the demo sample and from files, good and broken."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys.models import Journey
from tests.e2e.conftest import log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_demo_sample_can_be_created_twice(
    page: Page, editor: User, workspace: Workspace
) -> None:
    log_in(page, "editor@acme.test")
    for name in ("Checkout flow", "Checkout flow (2)"):
        page.goto(reverse("journeys:journey_create"))
        page.get_by_label("The demo-shop checkout sample").check()
        page.get_by_role("button", name="Create journey").click()
        expect(page.get_by_text(f"Created {name} (v1).")).to_be_visible()
        # The editor shows one step's form; the list names all five, the last one "order".
        steps = page.get_by_role("navigation", name="Steps of this journey").get_by_role("link")
        expect(steps).to_have_count(5)
        expect(steps.nth(4)).to_have_text(re.compile(r"\border\b"))
    assert sorted(Journey.objects.filter(workspace=workspace).values_list("slug", flat=True)) == [
        "checkout",
        "checkout-2",
    ]


def test_a_broken_file_lists_its_problems_with_paths_and_keeps_its_text(
    page: Page, editor: User, workspace: Workspace
) -> None:
    broken = samples.LOGIN_YAML.replace("method: POST", "method: FETCH").replace(
        "status_code", "status_cod"
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_create"))
    page.get_by_label("Import a YAML or JSON file").check()
    page.get_by_label("Journey file").set_input_files(
        files=[{"name": "login.yaml", "mimeType": "application/yaml", "buffer": broken.encode()}]
    )
    page.get_by_role("button", name="Create journey").click()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("steps[0].request.method")
    expect(problems).to_contain_text("steps[0].assertions[0].type")
    expect(problems).to_contain_text("did you mean 'status_code'?")
    text = page.get_by_label("…or paste YAML/JSON")
    expect(text).to_have_value(broken)

    # Fixing the text in place creates the journey.
    text.fill(samples.LOGIN_YAML)
    page.get_by_role("button", name="Create journey").click()
    expect(page.get_by_text("Created Login check (v1).")).to_be_visible()
    assert Journey.objects.filter(workspace=workspace, slug="login-check").exists()
