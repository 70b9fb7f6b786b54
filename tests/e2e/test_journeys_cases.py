"""In a real browser: cases of a journey, and environments that only owners manage."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Case, Environment
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_editor_creates_and_archives_a_case(page: Page, editor: User, workspace: Workspace) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("navigation", name="Journey").get_by_role("link", name="Cases").click()
    create = page.locator("#case-create")
    expect(create.get_by_label("Input values")).to_have_value("email=")
    # The name takes the shared form-field width (a stacked form's), not an input's 224 px.
    name_box = create.get_by_label("Name").bounding_box()
    values_box = create.get_by_label("Input values").bounding_box()
    assert name_box is not None
    assert values_box is not None
    assert name_box["width"] > 400, name_box
    assert abs(name_box["width"] - values_box["width"]) < 1, (name_box, values_box)
    create.get_by_label("Name").fill("Happy path")
    create.get_by_label("Input values").fill("email=a@example.test")
    create.get_by_role("button", name="Create case").click()
    expect(page.get_by_text("Created case Happy path.")).to_be_visible()
    row = page.locator('tr[data-name="Happy path"]')
    row.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("Archived Happy path.")).to_be_visible()
    expect(
        page.locator('tr[data-name="Happy path"]').get_by_role("button", name="Restore")
    ).to_be_visible()
    case = Case.objects.get(journey=journey)
    assert (case.values, case.archived) == ({"email": "a@example.test"}, True)

    # A second case with the same name is refused with a clear message.
    create = page.locator("#case-create")
    create.get_by_label("Name").fill("Happy path")
    create.get_by_role("button", name="Create case").click()
    expect(page.get_by_text("This journey already has a case named 'Happy path'")).to_be_visible()


def test_owner_manages_environments_and_editors_only_read_them(
    new_context: NewContext, owner: User, editor: User, workspace: Workspace
) -> None:
    owner_page = new_context().new_page()
    log_in(owner_page, "owner@acme.test")
    owner_page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Environments"
    ).click()
    form = owner_page.locator("#environment-create")
    form.get_by_label("Name").fill("staging")
    form.get_by_label("Base URL").fill("not a url")
    form.get_by_role("button", name="Create environment").click()
    expect(owner_page.get_by_text("Enter an http:// or https:// URL")).to_be_visible()
    form = owner_page.locator("#environment-create")
    form.get_by_label("Base URL").fill("https://staging.example.test/api")
    form.get_by_label("Values").fill("region=eu")
    form.get_by_role("button", name="Create environment").click()
    expect(owner_page.get_by_text("Created environment staging.")).to_be_visible()
    assert Environment.objects.get(workspace=workspace).values == {"region": "eu"}

    editor_page = new_context().new_page()
    log_in(editor_page, "editor@acme.test")
    editor_page.goto(reverse("journeys:environment_list"))
    expect(editor_page.locator('tr[data-name="staging"]')).to_contain_text("staging.example.test")
    expect(editor_page.get_by_role("button", name="Create environment")).to_have_count(0)
    expect(editor_page.get_by_role("button", name="Delete")).to_have_count(0)
