"""In a real browser: what a fresh look at the journey editor found (issue 15, polish).

The Send panel's tables read at a phone's width (words break between words), the value menu of a
Send answer shows whole, htmx swaps apply no inline style the Content-Security-Policy refuses,
every checkbox of a step has a visible label, and a half-typed reference in a query row is
marked once the field is left.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Journey
from reqflo.runs.models import Run
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples
from tests.runners.workers import Workers, region, workers
from tests.runs.fixtures import THREE_STEPS, MakeScenario, Target, make_scenario, target

__all__ = ["make_scenario", "region", "target", "workers"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}  # the Send panel sits in the 20rem side column

# Every word of every table cell under `root` that is broken over lines although it is narrower
# than half its table (a word like "Status" or "Content-Type"; only a long token may break,
# and only where it is wider than its cell): [word, its width, the table's]. A word is measured
# unbroken by a probe with the same font (styled through the CSSOM, which the policy allows).
SPLIT_WORDS = """
(root) => {
  const split = [];
  for (const cell of root.querySelectorAll("td, th")) {
    const table = cell.closest("table").getBoundingClientRect().width;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set(
          [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))
        );
        if (lines.size < 2) { continue; }
        const probe = document.createElement("span");
        probe.textContent = match[0];
        probe.style.whiteSpace = "nowrap";
        node.parentElement.appendChild(probe);
        const width = probe.getBoundingClientRect().width;
        probe.remove();
        if (width <= table / 2) { split.push([match[0], width, table]); }
      }
    }
  }
  return split;
}
"""

LONG_TOKEN = "tok_" + "0123456789abcdef" * 5  # wider than a phone: it must break somewhere
# The profile step's checks in the Send answer: words, tokens, a soft failure's message.
PROFILE_CHECKS: list[dict[str, Any]] = [
    {"type": "status_code", "expected": 200},
    {"type": "json_path", "path": "$.name", "operator": "equals", "expected": "Ada"},
    {"type": "header", "name": "Content-Type", "operator": "contains", "expected": "json"},
    {"type": "json_path", "path": "$.name", "expected": "Grace", "soft": True},
    {"type": "json_path", "path": "$.name", "operator": "not_equals", "expected": LONG_TOKEN},
    {"type": "response_time", "operator": "less_than", "expected": 5000},
]
CHECKED: dict[str, Any] = {
    "journey": {
        **THREE_STEPS["journey"],
        "steps": [
            THREE_STEPS["journey"]["steps"][0],
            {
                **THREE_STEPS["journey"]["steps"][1],
                "assertions": PROFILE_CHECKS,
                "outputs": {"who": {"from": "body", "path": "$.name"}},
            },
        ],
    }
}


def _send_profile(page: Page, journey: Journey) -> Locator:
    """Open the editor, Send the profile step, return the panel once passed (a soft check fails)."""
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", kwargs={"journey_id": journey.pk}))
    page.get_by_role("navigation", name="Steps of this journey").get_by_role(
        "link", name="profile"
    ).click()
    page.locator("#step-1").get_by_test_id("send-step").click()
    panel = page.locator("#send-panel")
    expect(panel.get_by_test_id("send-status")).to_have_text("Passed", timeout=60_000)
    return panel


# --- 1. The Send panel's tables read at a phone's width -------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_send_panel_breaks_words_only_between_words(
    new_context: NewContext,
    viewport: dict[str, int],
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(CHECKED, region=region)
    workers.start()
    page = new_context(viewport=viewport).new_page()
    panel = _send_profile(page, scenario.version.journey)
    checks = panel.get_by_test_id("send-assertions")
    expect(checks).to_contain_text("Status code")
    assert page.evaluate(SPLIT_WORDS, panel.element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # Still tables to a screen reader: a row per check, the column heads read out; a row per
    # header, named by the header.
    expect(checks.get_by_role("row")).to_have_count(len(PROFILE_CHECKS) + 1)
    expect(checks.get_by_role("columnheader", name="Expected")).to_have_count(1)
    headers = panel.locator("table.headers")
    expect(headers.get_by_role("rowheader", name="Content-Type")).to_have_count(1)
    # A token wider than the panel breaks inside its box rather than widen the page.
    expect(checks).to_contain_text(LONG_TOKEN)
    expect(panel.get_by_test_id("send-outputs")).to_contain_text('who"Ada"')

    # The run's own page: its steps' headers and outputs read the same way, nothing sticks out.
    page.goto(reverse("runs:detail", args=[Run.objects.get().pk]))
    for opener in page.locator("#run-live details > summary").all():
        opener.click()
    main = page.locator("main")
    expect(main.locator("table.headers").first).to_be_visible()
    pairs = SPLIT_WORDS.replace('"td, th"', '":is(.headers, .outputs) :is(td, th)"')
    assert page.evaluate(pairs, main.element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # The run history: its table scrolls in its own box, a time stays whole, no filter field
    # runs into the next.
    page.goto(reverse("runs:list"))
    history = page.get_by_test_id("run-history")
    expect(history).to_contain_text("Durable profile")
    assert page.evaluate(SPLIT_WORDS, history.element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    fields = [
        box
        for box in (f.bounding_box() for f in page.locator(".filter-grid :is(input, select)").all())
        if box is not None
    ]
    for i, one in enumerate(fields):
        for other in fields[i + 1 :]:
            apart = (
                one["x"] + one["width"] <= other["x"] + 1
                or other["x"] + other["width"] <= one["x"] + 1
                or one["y"] + one["height"] <= other["y"] + 1
                or other["y"] + other["height"] <= one["y"] + 1
            )
            assert apart, (one, other)


# --- 2. The value menu of a Send answer shows whole -----------------------------------------------

# What is on screen at the element's four corners (3 px inside, past a rounded border), where
# it is not the element: nothing clips or covers it when the list is empty.
COVERED_CORNERS = """
(element) => {
  const box = element.getBoundingClientRect();
  return [[box.left + 3, box.top + 3], [box.right - 3, box.top + 3],
          [box.left + 3, box.bottom - 3], [box.right - 3, box.bottom - 3]].flatMap(([x, y]) => {
    const hit = document.elementFromPoint(x, y);
    return hit !== null && element.contains(hit) ? [] : [[x, y, hit && hit.outerHTML.slice(0, 80)]];
  });
}
"""


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_value_menu_shows_whole_next_to_its_value_and_escape_closes_it(
    new_context: NewContext,
    viewport: dict[str, int],
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(CHECKED, region=region)
    workers.start()
    page = new_context(viewport=viewport).new_page()
    panel = _send_profile(page, scenario.version.journey)
    value = panel.locator('.pick[data-path="$.name"]')
    value.scroll_into_view_if_needed()
    value.click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    spot = value.bounding_box()
    assert box is not None
    assert spot is not None
    assert min(box["x"], box["y"]) >= 0, box
    assert box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] + box["height"] <= viewport["height"], box
    assert page.evaluate(COVERED_CORNERS, menu.element_handle()) == []
    # ...next to its value: just under it (or over it), not across the page.
    assert (
        abs(box["y"] - (spot["y"] + spot["height"])) < 8
        or abs(box["y"] + box["height"] - spot["y"]) < 8
    ), (box, spot)
    expect(menu.get_by_role("menuitem").first).to_be_focused()

    # The keyboard: the arrows move between its items, Escape closes it and the focus goes back.
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Keep it as an output")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(value).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    menu.get_by_role("menuitem", name="Keep it as an output").click()
    expect(page.locator("#steps-1-outputs-1-path")).to_have_value("$.name")
    expect(menu).to_have_count(0)


# --- 3. htmx swaps apply no inline style the Content-Security-Policy refuses -------------------


@pytest.mark.slow
def test_editor_actions_sends_and_other_htmx_pages_cause_no_policy_violation(
    page: Page,
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    """htmx settles a swapped element by copying the old one's attributes onto it; a `style`
    attribute (the suggestions box placed by editor.js, a textarea the user resized) copied so
    is an inline style, which the policy refuses on the console."""
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    scenario = make_scenario(CHECKED, region=region)
    journey = scenario.version.journey
    workers.start()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", kwargs={"journey_id": journey.pk}))
    # Suggestions open (editor.js places the box with a style), then the list answers again.
    url = page.locator("#steps-0-request-url")
    url.press("End")
    url.press_sequentially("?x={{ env")
    expect(page.locator("#suggestions button[data-ref]").first).to_be_visible()
    url.press_sequentially(".b")
    expect(page.locator("#suggestions")).to_contain_text("env.base_url")
    page.keyboard.press("Escape")
    url.fill("{{ env.base_url }}/login")
    # A textarea the user resized (the browser sets its height as a style), then editor swaps.
    page.locator("#steps-0-request-body").evaluate("(area) => { area.style.height = '9rem'; }")
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-2-id")).to_be_visible()
    step_list = page.get_by_role("navigation", name="Steps of this journey")
    step_list.get_by_role("link", name="profile").click()
    expect(page.locator("#steps-1-id")).to_have_value("profile")
    page.get_by_role("button", name="Add assertion").click()
    added = page.locator(f"#steps-1-assertions-{len(PROFILE_CHECKS)}-type")
    expect(added).to_be_visible()
    page.get_by_role("button", name=f"Remove check {len(PROFILE_CHECKS) + 1} of profile").click()
    expect(added).to_have_count(0)
    page.locator("#step-1").get_by_test_id("send-step").click()
    expect(page.locator("#send-panel").get_by_test_id("send-status")).to_have_text(
        "Passed", timeout=60_000
    )
    page.locator('#send-panel .pick[data-path="$.name"]').click()
    page.get_by_role("menuitem", name="Keep it as an output").click()
    expect(page.locator("#steps-1-outputs-1-path")).to_have_value("$.name")
    assert violations == [], "the editor"

    # The other htmx pages within reach: runs (a finished run, the run list), environments,
    # the journey list's search, the runners page (it polls).
    run = Run.objects.get()
    for address in (
        reverse("runs:detail", args=[run.pk]),
        reverse("runs:list"),
        reverse("journeys:environment_list"),
        reverse("journeys:environment_edit", args=[scenario.environment.pk]),
        reverse("journeys:case_list", args=[journey.pk]),
    ):
        page.goto(address)
        expect(page.locator("html")).to_have_attribute("data-ready", "")
    page.goto(reverse("journeys:journey_list"))
    page.locator("#journey-search").fill("Durable")
    expect(page.locator("#journey-table")).to_contain_text("Durable profile")
    page.locator("#journey-search").fill("nothing like it")
    expect(page.locator("#journey-table")).not_to_contain_text("Durable profile")
    assert violations == [], "the other pages"


# --- 4. Every checkbox of the editor has a visible label ------------------------------------------

# For every checkbox of the form: its id, its accessible name's source (aria-label or its
# labels' text), and the visible text of its labels (rendered, with a box).
CHECKBOXES = """
() => [...document.querySelectorAll("#editor-form input[type=checkbox]")].map((box) => ({
  id: box.id,
  name: (box.getAttribute("aria-label") || [...box.labels].map((l) => l.innerText).join(" "))
    .trim(),
  shown: [...box.labels].filter((l) => l.getBoundingClientRect().width > 0)
    .map((l) => l.innerText.trim()).filter(Boolean),
}))
"""


@pytest.mark.parametrize("width", [390, 1280, 1800])
def test_every_checkbox_of_the_editor_has_a_visible_label_in_its_name(
    new_context: NewContext, width: int, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    soft = page.locator("#steps-0-assertions-0-soft")
    expect(soft).to_be_visible()
    boxes = page.evaluate(CHECKBOXES)
    assert {box["id"] for box in boxes} >= {
        "inputs-0-required",
        "steps-0-always",
        "steps-0-assertions-0-soft",
        "steps-0-outputs-0-secret",
    }
    for box in boxes:
        assert box["shown"], f"{box['id']} has no visible label"
        assert box["shown"][0].lower() in box["name"].lower(), box  # the label is in its name
    expect(soft).to_have_accessible_name("Check 1 of login: soft (report, never fail the step)")
    # A click on the label's text ticks the box.
    page.locator("label").filter(has=soft).get_by_text("Soft").click()
    expect(soft).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# --- 5. A half-typed reference in a new query row is marked once the field is left -------------


@pytest.mark.parametrize("kind", ["query", "header"])
def test_a_new_row_with_a_half_typed_value_and_no_name_is_marked_once_the_value_is_left(
    page: Page, kind: str, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    rows = page.locator(f"#steps-0-request-{'headers' if kind == 'header' else 'query'} .pair-row")
    before = rows.count()
    page.get_by_test_id(f"add-{kind}").click()
    expect(rows).to_have_count(before + 1)
    prefix = f"#steps-0-request-{'headers' if kind == 'header' else 'query'}-{before}"
    name, value = page.locator(f"{prefix}-name"), page.locator(f"{prefix}-value")
    # A new row, visited and left empty, is nothing to mark.
    value.focus()
    value.press("Tab")
    page.locator("#journey-description").fill("Touched")  # a Run check after it
    expect(page.locator("#run-check")).to_contain_text("No problems found")
    expect(page.locator(".field-message")).to_have_count(0)
    expect(value).not_to_have_attribute("aria-invalid", "true")

    # Half a reference and no name: nothing while the user types...
    value.press_sequentially("{{ steps.")
    page.keyboard.press("Escape")  # the suggestions close; the focus stays
    issue = page.locator(f"#run-check .issue[data-anchor='{prefix[1:]}-value']")
    expect(issue).to_have_count(1)
    expect(issue).to_be_hidden()
    expect(value).not_to_have_attribute("aria-invalid", "true")
    # ...and once the value is left, both fields say what is wrong, like any other field.
    value.blur()
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"{prefix}-value + .field-message")).to_contain_text(
        "'{{' is never closed with '}}'"
    )
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"{prefix}-name + .field-message")).to_contain_text(
        "has a value but no name"
    )


# --- A long line in a Send answer's body wraps in its box, never cut, never the page -------------

WIDE_LINE = "wide-" + "0123456789" * 30  # one JSON string, far wider than the side column
WIDE_BODY: dict[str, Any] = {
    "journey": {
        "name": "Wide body",
        "steps": [
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"k": WIDE_LINE},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "viewport", [PHONE, {"width": 1440, "height": 900}], ids=["phone", "desktop"]
)
def test_a_wide_response_body_wraps_inside_the_send_panel_not_the_page(
    new_context: NewContext,
    viewport: dict[str, int],
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(WIDE_BODY, region=region, secret=False)
    workers.start()
    page = new_context(viewport=viewport).new_page()
    log_in(page, "editor@acme.test")
    page.goto(
        reverse("journeys:journey_editor", kwargs={"journey_id": scenario.version.journey.pk})
    )
    page.locator("#step-0").get_by_test_id("send-step").click()
    panel = page.locator("#send-panel")
    expect(panel.get_by_test_id("send-status")).to_have_text("Passed", timeout=60_000)
    body = panel.get_by_test_id("send-body")
    expect(body).to_contain_text(WIDE_LINE)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # The long line wraps in the body's box (a verifier found it cut at the side column's
    # edge): nothing wider than the box, the whole value on screen, the box inside the panel.
    assert body.evaluate("(pre) => pre.scrollWidth <= pre.clientWidth")
    line = body.get_by_text(WIDE_LINE, exact=False).first
    box = line.bounding_box()
    assert box is not None
    assert box["height"] > 2 * 16  # on several lines
    pre, card = body.bounding_box(), panel.bounding_box()
    assert pre is not None
    assert card is not None
    assert pre["x"] + pre["width"] <= card["x"] + card["width"] + 1
