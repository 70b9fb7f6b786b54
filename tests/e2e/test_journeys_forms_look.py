"""In a real browser: journey forms that look finished (issue 15 item 7).

The editor fits a 390 px phone, a viewer's fields read as text, an environment's base URL has
room for a URL, and a taken journey name is reported under the Name field.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_editor_fits_a_390_px_screen(
    new_context: NewContext, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    page = new_context(viewport=PHONE).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add variable").click()
    expect(page.locator("#variables-0-name")).to_be_visible()
    # Nothing sticks out sideways: no horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every field of a check row and an output row is wide enough to read what it holds.
    for field in (
        "#steps-0-assertions-0-type",
        "#steps-0-assertions-0-operator",
        "#steps-0-outputs-0-name",
        "#steps-0-outputs-0-path",
        "#variables-0-name",
        "#steps-0-request-url",
    ):
        box = page.locator(field).bounding_box()
        assert box is not None
        assert box["width"] >= 120, (field, box)
        assert box["x"] + box["width"] <= PHONE["width"], (field, box)
    page.locator("#variables-0-name").fill("region")
    page.locator("#variables-0-value").fill("eu")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()


def test_a_viewer_sees_fields_that_read_as_text(
    page: Page, viewer: User, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "viewer@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    url = page.locator("#steps-0-request-url")
    expect(url).to_be_disabled()
    look = url.evaluate(
        "f => { const s = getComputedStyle(f); const b = getComputedStyle(document.body);"
        " return [s.borderTopColor, s.backgroundColor, s.color, b.color, s.opacity]; }"
    )
    border, background, color, body_color, opacity = look
    assert border == "rgba(0, 0, 0, 0)", "no input border: nothing to type in"
    assert background == "rgba(0, 0, 0, 0)"
    assert color == body_color, "the value reads like the text around it, not greyed out"
    assert opacity == "1"
    # A placeholder ("default") is not a value: a viewer does not see it as one.
    placeholder = page.locator("#steps-0-timeout_ms").evaluate(
        "f => getComputedStyle(f, '::placeholder').color"
    )
    assert placeholder == "rgba(0, 0, 0, 0)"


def test_an_environments_base_url_field_has_room_for_a_url(
    page: Page, owner: User, workspace: Workspace
) -> None:
    log_in(page, "owner@acme.test")
    page.goto(reverse("journeys:environment_list"))
    base_url = page.get_by_label("Base URL")
    box = base_url.bounding_box()
    assert box is not None
    assert box["width"] >= 500, box
    base_url.fill("https://staging.payments.example.test/api/v2")
    page.get_by_label("Name").fill("staging")
    page.get_by_role("button", name="Create environment").click()
    expect(page.locator("#environments")).to_contain_text("https://staging.payments.example.test")


def test_a_taken_name_is_reported_under_the_name_field(
    page: Page, editor: User, workspace: Workspace
) -> None:
    services.journey_create_blank(workspace=workspace, author=editor, name="Signup")
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_create"))
    page.get_by_label("Name").fill("Signup")
    page.get_by_role("button", name="Create journey").click()
    name = page.get_by_label("Name")
    expect(name).to_have_value("Signup")
    expect(name).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field.has-errors").filter(has=name).locator(".errorlist")
    expect(error).to_have_text(
        "A journey with slug 'signup' already exists in this workspace; choose another name."
    )
    # The message names a field the page has: no slug field to look for.
    expect(page.get_by_label("Slug")).to_have_count(0)
    # ...and the field's description is that message: every id it names is on the page.
    expect(name).to_have_accessible_description(re.compile("already exists in this workspace"))
    missing = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(
            field => field.getAttribute('aria-describedby').split(/\\s+/)
                .filter(id => id && !document.getElementById(id)))"""
    )
    assert missing == []
    name.fill("Signup (mobile)")
    page.get_by_role("button", name="Create journey").click()
    expect(page.get_by_text("Created Signup (mobile) (v1).")).to_be_visible()


# The width a select needs for a label: its text, its padding and the arrow Chromium draws.
_CUT_LABELS = """
sel => {
  const style = getComputedStyle(sel);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const room = sel.clientWidth - padding - 20;
  return [...sel.options].map(o => o.text).filter(text => context.measureText(text).width > room);
}
"""


@pytest.mark.parametrize("width", [1440, 390])
def test_selects_are_wide_enough_for_their_values(
    new_context: NewContext, editor: User, workspace: Workspace, width: int
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    for select in (
        "#steps-0-assertions-0-type",
        "#steps-0-assertions-0-operator",
        "#steps-0-outputs-0-source",
        "#steps-0-request-method",
        "#steps-0-request-body_kind",
    ):
        assert page.locator(select).evaluate(_CUT_LABELS) == [], (width, select)


@pytest.mark.parametrize("width", [1440, 1200, 1024, 390])
def test_check_rows_header_values_and_step_marks_have_room(
    new_context: NewContext, editor: User, workspace: Workspace, width: int
) -> None:
    document = check_text(samples.LOGIN_YAML).document
    document["journey"]["steps"][0]["name"] = "Log in with the account made for this journey"
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_document(document)
    )
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add assertion").click()
    expect(page.locator("#steps-0-assertions-1-target")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for field in (
        "#steps-0-assertions-1-target",
        "#steps-0-assertions-1-expected",
        "#steps-0-assertions-1-type",
        "#steps-0-assertions-1-operator",
        "#steps-0-request-headers-0-value",
        "#steps-0-outputs-0-path",
    ):
        box = page.locator(field).bounding_box()
        assert box is not None
        assert box["width"] >= 150, (field, box)
    # The mark of the last send (set as the Send panel's answer sets it) is never cut, even
    # beside a long name.
    mark = page.locator("#send-mark-login")
    mark.evaluate("m => { m.textContent = 'skipped'; m.classList.add('send-mark-skipped'); }")
    assert mark.evaluate("m => m.scrollWidth <= m.clientWidth")
    link, box = page.locator(".step-list a[data-step='0']").bounding_box(), mark.bounding_box()
    assert link is not None
    assert box is not None
    assert box["x"] + box["width"] <= link["x"] + link["width"], (box, link)


def test_an_environments_edit_page_has_save_then_cancel_on_one_line(
    page: Page, owner: User, workspace: Workspace
) -> None:
    environment = services.environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )
    log_in(page, "owner@acme.test")
    page.goto(reverse("journeys:environment_edit", args=[environment.pk]))
    save = page.get_by_role("button", name="Save").bounding_box()
    cancel = page.get_by_role("link", name="Cancel").bounding_box()
    assert save is not None
    assert cancel is not None
    # Same line (centres level), Cancel right after the main action, as on the other forms.
    assert abs((save["y"] + save["height"] / 2) - (cancel["y"] + cancel["height"] / 2)) < 3
    assert save["x"] + save["width"] <= cancel["x"] <= save["x"] + save["width"] + 40
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/admin/environments/$"))
