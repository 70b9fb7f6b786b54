"""In a real browser: an owner manages a secret end to end; a viewer sees only its name;
deleting a referenced secret shows up in the journey editor's Run check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment
from reqflo.journeys.services import journey_create
from reqflo.secrets.models import Secret, SecretValue
from reqflo.secrets.resolution import secrets_resolve
from reqflo.secrets.services import Actor, secret_create
from tests.e2e.conftest import NewContext, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIRST_VALUE = "sk_live_Brw5Er7Ts9Qa2Lm4Xc6Vb8Nz"
ROTATED_VALUE = "sk_live_Rot8Br0wser1Kp3Jd5Hg7"
STAGING_VALUE = "stg_Br0wser_Hq83JdLw02PzXa9V"
VALUES = (FIRST_VALUE, ROTATED_VALUE, STAGING_VALUE)


def assert_page_has_no_value(page: Page) -> None:
    html = page.content()
    for value in VALUES:
        assert value not in html
    # Nothing typed is left in any input either.
    for field in page.locator('input[type="password"]').all():
        assert field.input_value() == ""


def test_owner_creates_rotates_and_sets_a_staging_value(
    new_context: NewContext, owner: User, viewer: User, workspace: Workspace
) -> None:
    Environment.objects.create(workspace=workspace, name="staging", base_url="https://s.test")
    page = new_context().new_page()
    log_in(page, "owner@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Secrets").click()
    expect(page.get_by_role("heading", name="Secrets")).to_be_visible()
    page.get_by_role("link", name="New secret").click()

    value_input = page.get_by_label("Value")
    expect(value_input).to_have_attribute("type", "password")
    expect(value_input).to_have_attribute("autocomplete", "off")
    page.get_by_label("Name").fill("payments_api_key")
    page.get_by_label("Description").fill("Payments sandbox key")
    value_input.fill(FIRST_VALUE)
    page.get_by_role("button", name="Create secret").click()

    expect(page.get_by_text("Secret payments_api_key created.")).to_be_visible()
    default_row = page.locator('tr[data-environment="default"]')
    expect(default_row).to_contain_text("set · updated")
    expect(default_row).to_contain_text("by owner@acme.test")
    first_fingerprint = default_row.locator(".fingerprint").inner_text()
    assert_page_has_no_value(page)
    page.evaluate("window.__sameDocument = true")

    rotate = page.locator("form", has_text="Rotate the default value")
    rotate.get_by_label("New value").fill(ROTATED_VALUE)
    rotate.get_by_role("button", name="Rotate").click()
    expect(page.get_by_text("Rotated payments_api_key.")).to_be_visible()
    audit = page.locator("#secret-audit")
    expect(audit.locator("tr.audit-rotated")).to_have_count(1)
    expect(default_row.locator(".fingerprint")).not_to_have_text(first_fingerprint)
    assert_page_has_no_value(page)

    environment = page.locator("form", has_text="Set an environment's value")
    environment.get_by_label("Environment").select_option("staging")
    environment.get_by_label("Value").fill(STAGING_VALUE)
    environment.get_by_role("button", name="Set value").click()
    expect(page.get_by_text("Set the staging value of payments_api_key.")).to_be_visible()
    expect(page.locator('tr[data-environment="staging"]')).to_contain_text("set · updated")
    expect(audit.locator("tr.audit-env_set")).to_have_count(1)
    expect(audit.locator("tr.audit-created")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # swapped by htmx, no reload
    assert_page_has_no_value(page)

    page.get_by_role("link", name="Full history").click()
    expect(page.get_by_role("heading", name="Secrets audit log")).to_be_visible()
    expect(page.locator("#audit-results tbody tr")).to_have_count(3)
    page.get_by_label("Event").select_option("env_set")
    expect(page.locator("#audit-results tbody tr")).to_have_count(1)
    expect(page.locator("#audit-results")).to_contain_text("staging")

    # What the browser saved is what a run on each environment receives.
    secret = Secret.objects.get(name="payments_api_key")
    assert SecretValue.objects.filter(secret=secret).count() == 2
    for environment_name, expected in (("staging", STAGING_VALUE), ("production", ROTATED_VALUE)):
        resolved = secrets_resolve(
            workspace=secret.workspace,
            names=["payments_api_key"],
            environment=environment_name,
            run_id=f"run_{environment_name}",
        )
        assert resolved.values == {"payments_api_key": expected}

    # Clearing the staging value (after the browser's confirm) makes staging use the default.
    page.goto(reverse("secrets:secret_detail", args=[secret.pk]))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-environment="staging"]').get_by_role("button", name="Clear").click()
    expect(page.get_by_text("Cleared the staging value of payments_api_key")).to_be_visible()
    expect(page.locator('tr[data-environment="staging"]')).to_have_count(0)
    expect(page.locator("#secret-audit tr.audit-env_cleared")).to_have_count(1)
    resolved = secrets_resolve(
        workspace=secret.workspace, names=["payments_api_key"], environment="staging", run_id="r3"
    )
    assert resolved.values == {"payments_api_key": ROTATED_VALUE}

    # A viewer sees the name and description, no value and no edit controls.
    viewer_page = new_context().new_page()
    log_in(viewer_page, "viewer@acme.test")
    viewer_page.goto(reverse("secrets:secret_list"))
    expect(viewer_page.get_by_role("link", name="payments_api_key")).to_be_visible()
    expect(viewer_page.get_by_role("link", name="New secret")).to_have_count(0)
    viewer_page.get_by_role("link", name="payments_api_key").click()
    expect(viewer_page.get_by_role("heading", name="Secret payments_api_key")).to_be_visible()
    expect(viewer_page.get_by_text("Payments sandbox key")).to_be_visible()
    expect(viewer_page.locator("main form")).to_have_count(0)
    expect(viewer_page.locator("main input")).to_have_count(0)
    expect(viewer_page.get_by_role("link", name="Delete…")).to_have_count(0)
    expect(viewer_page.locator("#secret-audit")).to_have_count(0)
    expect(viewer_page.locator(".fingerprint")).to_have_count(0)
    assert_page_has_no_value(viewer_page)


def test_deleting_a_referenced_secret_lists_its_journeys_and_their_run_check_reports_it(
    new_context: NewContext, owner: User, workspace: Workspace
) -> None:
    actor = Actor(user=owner)
    secret = secret_create(
        workspace=workspace, actor=actor, name="payments_api_key", value=FIRST_VALUE
    )
    document = {
        "journey": {
            "name": "Checkout",
            "steps": [
                {
                    "id": "pay",
                    "request": {
                        "method": "GET",
                        "url": "https://api.acme.test/pay",
                        "headers": {"X-Api-Key": "{{ secrets.payments_api_key }}"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        }
    }
    journey = journey_create(
        workspace=workspace, author=owner, checked=check_document(document), message="v1"
    )
    page = new_context().new_page()
    log_in(page, "owner@acme.test")
    page.goto(reverse("secrets:secret_detail", args=[secret.pk]))
    used_by = page.get_by_role("region", name="Used by journeys")
    expect(used_by.get_by_role("link", name="Checkout")).to_be_visible()

    page.get_by_role("link", name="Delete…").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("1 journey references this secret")
    expect(warning.get_by_role("link", name="Checkout")).to_be_visible()
    page.get_by_role("button", name="Delete payments_api_key").click()
    expect(page.get_by_text("Secret payments_api_key deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="payments_api_key")).to_have_count(0)

    page.goto(reverse("journeys:journey_editor", args=[journey.pk]))
    run_check = page.locator("#run-check")
    expect(run_check.locator(".issue-error")).to_have_count(1)
    expect(run_check.locator(".issue-error")).to_contain_text("Missing secret payments_api_key")
    assert_page_has_no_value(page)
