"""In a real browser: build a journey through the form only, version it, diff and restore it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Journey
from tests.e2e.conftest import NewContext, log_in
from tests.journeys import samples

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_editor_builds_versions_diffs_and_restores_a_journey_in_the_browser(
    page: Page, editor: User, workspace: Workspace
) -> None:
    log_in(page, "editor@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    page.get_by_role("link", name="New journey").click()
    page.get_by_label("Blank journey").check()
    page.get_by_label("Name").fill("Order lookup")
    page.get_by_role("button", name="Create journey").click()
    expect(page.get_by_text("Created Order lookup (v1).")).to_be_visible()

    # Step 1 comes with the blank journey; point it at /login and give it an output.
    page.locator("#steps-0-id").fill("login")
    page.locator("#steps-0-request-method").select_option("POST")
    page.locator("#steps-0-request-url").fill("{{ env.base_url }}/login")
    page.locator("#steps-0-request-body_kind").select_option("json")
    page.locator("#steps-0-request-body").fill('{"email": "a@example.test", "password": "pw"}')
    page.get_by_role("button", name="Add output").click()
    expect(page.locator("#steps-0-outputs-0-name")).to_be_visible()
    page.locator("#steps-0-outputs-0-name").fill("token")
    page.locator("#steps-0-outputs-0-path").fill("$.token")
    page.locator("#steps-0-outputs-0-secret").check()

    # Step 2: added with htmx, reads the first step's output, asserts on the body.
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-1-id")).to_have_value("step-2")
    page.locator("#steps-1-id").fill("products")
    page.locator("#steps-1-request-url").fill("{{ env.base_url }}/products")
    page.locator("#step-1").get_by_role("button", name="Add header").click()
    page.locator("#steps-1-request-headers-0-name").fill("Authorization")
    page.locator("#steps-1-request-headers-0-value").fill("Bearer {{ steps.login.outputs.token }}")
    page.locator("#step-1").get_by_role("button", name="Add assertion").click()
    page.locator("#steps-1-assertions-1-target").fill("$.products")
    page.locator("#steps-1-assertions-1-operator").select_option("not_empty")
    page.locator("#save-message").fill("Two steps")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()

    journey = Journey.objects.get(workspace=workspace, slug="order-lookup")
    steps = journey.head.document["journey"]["steps"]
    assert [step["id"] for step in steps] == ["login", "products"]
    assert steps[0]["outputs"] == {"token": {"from": "body", "path": "$.token", "secret": True}}
    assert steps[1]["assertions"][1] == {
        "type": "json_path",
        "path": "$.products",
        "operator": "not_empty",
    }

    # Edit again: rename the journey, which makes v3.
    page.locator("#journey-name").fill("Order lookup (edited)")
    page.get_by_role("button", name="Save as v3").click()
    expect(page.get_by_text("Saved v3.")).to_be_visible()

    # History shows the versions; compare v2 with v3.
    page.get_by_role("navigation", name="Journey").get_by_role("link", name="History").click()
    expect(page.locator("#version-3")).to_be_visible()
    page.get_by_label("Compare from v2").check()
    page.get_by_label("Compare to v3").check()
    page.get_by_role("button", name="Compare selected versions").click()
    expect(page.get_by_test_id("diff-summary")).to_have_text("Journey: name.")
    expect(page.locator("tr.added")).to_contain_text("name: Order lookup (edited)")

    # Restore v2: its content comes back as v4.
    page.get_by_role("navigation", name="Journey").get_by_role("link", name="History").click()
    page.locator("#version-2").get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Restored v2 as v4.")).to_be_visible()
    journey.refresh_from_db()
    assert journey.head_number == 4
    assert journey.name == "Order lookup"
    assert journey.head.digest == journey.versions.get(number=2).digest


def test_invalid_yaml_keeps_the_text_and_shows_the_error(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="YAML").click()
    textarea = page.get_by_label("The whole journey as YAML")
    expect(textarea).to_contain_text("name: Login check")
    broken = textarea.input_value().replace("method: POST", "method: [POST")
    textarea.fill(broken)
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Not saved: fix these first")).to_be_visible()
    expect(page.locator("#save-problems")).to_contain_text("invalid YAML at line")
    expect(page.get_by_label("The whole journey as YAML")).to_have_value(broken)
    journey.refresh_from_db()
    assert journey.head_number == 1

    # A schema error names its path, and fixing the text saves.
    fixed = broken.replace("method: [POST", "method: POST").replace("status_code", "status_cod")
    page.get_by_label("The whole journey as YAML").fill(fixed)
    page.get_by_role("button", name="Save as v2").click()
    expect(page.locator("#save-problems")).to_contain_text("steps[0].assertions[0].type")
    # The problem names its line; its link selects that line in the text.
    page.locator("#save-problems").get_by_role("link", name="steps[0].assertions[0].type").click()
    expect(page.get_by_label("The whole journey as YAML")).to_be_focused()
    selected = page.evaluate(
        "() => { const t = document.getElementById('yaml-text');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert "type: status_cod" in selected
    page.get_by_label("The whole journey as YAML").fill(fixed.replace("status_cod", "status_code"))
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("No changes: v1 is still the latest version.")).to_be_visible()


def test_typing_double_braces_suggests_references_in_scope(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add step").click()
    url = page.locator("#steps-1-request-url")
    url.fill("")
    url.press_sequentially("{{ env.base_url }}/me?t={{ steps.lo")
    suggestion = page.locator("#suggestions button[data-ref='steps.login.outputs.token']")
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(url).to_have_value("{{ env.base_url }}/me?t={{ steps.login.outputs.token }}")


def test_run_check_panel_flags_an_unknown_reference_as_you_type(
    page: Page, editor: User, workspace: Workspace
) -> None:
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    expect(page.get_by_test_id("check-ok")).to_be_visible()
    page.locator("#steps-0-request-url").fill("{{ env.base_url }}/{{ inputs.nope }}")
    page.locator("#steps-0-request-url").blur()
    panel = page.locator("#run-check")
    expect(panel).to_contain_text("steps[0].request.url")
    panel.get_by_role("link", name="steps[0].request.url").click()
    expect(page.locator("#steps-0-request-url")).to_be_focused()


def test_viewer_sees_the_journey_read_only(
    page: Page, viewer: User, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "viewer@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    expect(page.locator("#steps-0-request-url")).to_be_disabled()
    expect(page.get_by_role("button", name="Add step")).to_have_count(0)
    expect(page.get_by_role("button", name="Save as v2")).to_have_count(0)
    page.get_by_role("link", name="YAML").click()
    expect(page.get_by_label("The whole journey as YAML")).to_be_disabled()
    expect(page.locator("main form[method=post]")).to_have_count(0)
    page.get_by_role("navigation", name="Journey").get_by_role("link", name="History").click()
    expect(page.locator("#version-1")).to_be_visible()
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    page.get_by_role("link", name="v1", exact=True).click()
    expect(page.get_by_test_id("version-yaml")).to_contain_text("name: Login check")
    expect(page.locator("main button")).to_have_count(0)


def test_a_concurrent_save_shows_the_diff_and_overwrites_nothing(
    new_context: NewContext, owner: User, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    url = reverse("journeys:journey_editor", args=[journey.pk])
    alice, bob = new_context().new_page(), new_context().new_page()
    log_in(alice, "owner@acme.test")
    log_in(bob, "editor@acme.test")
    alice.goto(url)
    bob.goto(url)
    alice.locator("#journey-description").fill("Alice was here")
    alice.get_by_role("button", name="Save as v2").click()
    expect(alice.get_by_text("Saved v2.")).to_be_visible()

    bob.locator("#journey-description").fill("Bob was here")
    bob.get_by_role("button", name="Save as v2").click()
    conflict = bob.locator("#conflict")
    expect(conflict).to_contain_text("Someone saved v2 while you were editing")
    expect(conflict.locator("tr.removed")).to_contain_text("description: Alice was here")
    expect(conflict.locator("tr.added")).to_contain_text("description: Bob was here")
    expect(bob.locator("#journey-description")).to_have_value("Bob was here")
    journey.refresh_from_db()
    assert journey.head.document["journey"]["description"] == "Alice was here"

    # Having seen the diff, Bob saves on top of v2 on purpose.
    bob.get_by_role("button", name="Save as v3").click()
    expect(bob.get_by_text("Saved v3.")).to_be_visible()
    journey.refresh_from_db()
    assert journey.head.document["journey"]["description"] == "Bob was here"


def test_form_edits_carry_over_to_the_yaml_view_and_back(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.locator("#steps-0-timeout_ms").fill("5000")
    page.get_by_role("button", name="YAML").click()
    yaml_text = page.get_by_label("The whole journey as YAML")
    expect(yaml_text).to_contain_text("timeout_ms: 5000")
    yaml_text.fill(yaml_text.input_value().replace("timeout_ms: 5000", "timeout_ms: 7000"))
    page.get_by_role("button", name="Form").click()
    expect(page.locator("#steps-0-timeout_ms")).to_have_value("7000")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    journey.refresh_from_db()
    assert journey.head.document["journey"]["steps"][0]["timeout_ms"] == 7000


def test_the_editor_works_without_javascript(
    new_context: NewContext, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#steps-1-id")).to_have_value("step-2")
    page.locator("#steps-1-request-url").fill("{{ env.base_url }}/products")
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    journey.refresh_from_db()
    assert [s["id"] for s in journey.head.document["journey"]["steps"]] == ["login", "step-2"]


def test_a_json_schema_check_is_written_over_several_lines(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.locator("#step-0").get_by_role("button", name="Add assertion").click()
    expect(page.locator("#steps-0-assertions-1-target")).to_be_visible()
    page.locator("#steps-0-assertions-1-type").select_option(label="JSON schema")
    # A schema reads no JSONPath and no operator: those fields step aside for the schema.
    expect(page.locator("#steps-0-assertions-1-target")).to_be_hidden()
    expect(page.locator("#steps-0-assertions-1-operator")).to_be_hidden()
    schema = '{\n  "type": "object",\n  "required": ["token"]\n}'
    page.locator("#steps-0-assertions-1-expected").fill(schema)
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()
    journey.refresh_from_db()
    assert journey.head.document["journey"]["steps"][0]["assertions"][1] == {
        "type": "json_schema",
        "schema": {"type": "object", "required": ["token"]},
    }
    # The saved schema comes back over several lines, ready to edit again.
    expect(page.locator("#steps-0-assertions-1-expected")).to_have_value(
        '{\n  "type": "object",\n  "required": [\n    "token"\n  ]\n}'
    )


def test_a_problem_is_shown_under_the_field_it_is_about(
    page: Page, editor: User, workspace: Workspace
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=editor, checked=check_text(samples.LOGIN_YAML)
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    page.locator("#steps-0-request-body").fill('{"email": "a@example.test",')
    page.get_by_role("button", name="Save as v2").click()
    expect(page.locator("#save-problems")).to_contain_text("steps[0].request.json")
    body = page.locator("#steps-0-request-body")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#steps-0-request-body + .field-message")).to_contain_text(
        "the JSON body does not parse"
    )
    expect(body).to_have_value('{"email": "a@example.test",')
    # Fixing the field clears its message once Run check has looked again.
    body.fill('{"email": "a@example.test"}')
    body.blur()
    expect(page.locator("#steps-0-request-body + .field-message")).to_have_count(0)
    page.get_by_role("button", name="Save as v2").click()
    expect(page.get_by_text("Saved v2.")).to_be_visible()


def test_the_first_step_of_a_blank_journey_targets_the_environment(
    page: Page, editor: User, workspace: Workspace
) -> None:
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_create"))
    page.get_by_label("Name").fill("Health")
    page.get_by_role("button", name="Create journey").click()
    expect(page.locator("#steps-0-request-url")).to_have_value("{{ env.base_url }}/")
    # The Run check panel says what env.base_url is in the environment it checks against.
    expect(page.get_by_test_id("env-values")).to_contain_text("https://staging.example.test")
    expect(page.get_by_test_id("check-ok")).to_be_visible()
