"""Runs people can see, in a real Chromium: an editor runs a journey from the editor on a real
Celery worker and watches it live; a viewer filters history, opens a batch, compares two runs."""

from __future__ import annotations

import copy
import re

import pytest
import xmlschema
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.journeys.documents import check_document
from reqflo.journeys.services import case_create, journey_version_create
from reqflo.runners.execution import run_execute
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.e2e.conftest import log_in
from tests.runners.workers import Workers, region, workers
from tests.runs.fixtures import API_KEY, MakeScenario, Target, make_scenario, target
from tests.runs.pages import PAGES_JOURNEY, SECRET_INPUT, finished_batch, finished_run
from tests.runs.test_reports import XSD

__all__ = ["make_scenario", "region", "target", "workers"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.slow
def test_editor_runs_from_the_editor_watches_it_live_and_downloads_the_junit(
    page: Page,
    editor: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario(PAGES_JOURNEY, region=region)
    journey = scenario.version.journey
    case_create(journey=journey, name="Grace", values={"user": "grace"})
    workers.start()
    target.block("/profile")  # the run waits at step 2 until the test lets it go

    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_editor", kwargs={"journey_id": journey.pk}))
    page.get_by_test_id("run-journey").click()
    panel = page.locator("#run-panel")
    expect(panel.get_by_role("heading", name="Run on the Cloud Runner")).to_be_visible()
    # A required secret input is missing: the Run check says so and Run is disabled.
    expect(panel.get_by_test_id("run-check-issues")).to_contain_text("required input 'password'")
    expect(panel.get_by_test_id("run-button")).to_be_disabled()
    # Choosing the case prefills its inputs; then an override and the secret input.
    panel.get_by_label("Case").select_option(label="Grace")
    expect(page.locator("#id_input_user")).to_have_value("grace")
    page.locator("#id_input_user").fill("ada")
    page.locator("#id_input_password").fill(SECRET_INPUT)
    page.locator("#id_input_password").dispatch_event("change")
    expect(panel.get_by_test_id("run-button")).to_be_enabled()
    panel.get_by_test_id("run-button").click()

    # The run's page: step 1 appears live while step 2 is held at the target.
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run = Run.objects.get()
    assert (run.trigger, run.triggered_by, run.inputs["user"]) == (Trigger.EDITOR, editor, "ada")
    page.evaluate("window.__sameDocument = true")
    login_step = page.locator('li[data-step="login"]')
    expect(login_step).to_have_attribute("data-state", "passed", timeout=60_000)
    expect(page.locator('li[data-step="profile"]')).to_have_attribute("data-state", "running")
    login_step.locator("summary").first.click()  # opened while the page still polls

    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    target.release("/profile")

    expect(page.get_by_test_id("run-status")).to_have_text("Failed", timeout=60_000)
    # Everything that changes when the run ends updates in place, not only the steps.
    expect(page.get_by_test_id("run-status-header")).to_have_text("Failed")
    expect(page.get_by_test_id("run-finished")).not_to_have_text("—")
    expect(page.get_by_test_id("run-duration")).to_have_text(re.compile(r"\d s$"))
    expect(page.get_by_test_id("chain")).to_contain_text("and the run's head")
    expect(page.get_by_test_id("attempts")).to_contain_text("Finished")
    expect(page.get_by_role("button", name="Re-run")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    expect(login_step.locator("details").first).to_have_attribute("open", "")  # still open
    profile = page.locator('li[data-step="profile"]')
    profile.locator("summary").first.click()
    failed = profile.locator('tr[data-passed="false"]').first
    expect(failed.get_by_test_id("expected")).to_have_text('"Grace"')
    expect(failed.get_by_test_id("actual")).to_have_text('"Ada"')
    expect(profile.locator('tr[data-passed="false"]').nth(1)).to_contain_text(
        "no value: the JSONPath matched nothing"
    )
    assert SECRET_INPUT not in page.content()
    assert API_KEY not in page.content()

    # The download links came with the run's end, without a reload.
    assert page.evaluate("window.__sameDocument") is True
    with page.expect_download() as download:
        page.get_by_test_id("download-junit").click()
    junit = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115
    xmlschema.XMLSchema(str(XSD)).validate(junit)
    assert 'failures="1"' in junit
    assert SECRET_INPUT not in junit


def test_viewer_filters_history_to_failures_opens_a_batch_and_compares_two_runs(
    page: Page, viewer: User, make_scenario: MakeScenario, target: Target
) -> None:
    scenario = make_scenario(PAGES_JOURNEY)
    # A passing run (v2 expects "Ada"), a failing one (v1 expects "Grace"), and a batch.
    document = copy.deepcopy(PAGES_JOURNEY)
    document["journey"]["steps"][1]["assertions"][1]["expected"] = "Ada"
    document["journey"]["steps"][1]["assertions"].pop()
    journey = scenario.version.journey
    v2 = journey_version_create(
        journey=journey,
        author=scenario.owner,
        checked=check_document(document),
        base_number=journey.head_number,
    )
    assert v2 is not None
    passed = run_dispatch(
        workspace=scenario.workspace,
        version=v2,
        environment=scenario.environment,
        trigger=Trigger.API,
        inputs={"password": SECRET_INPUT},
    ).run
    run_execute(run_id=passed.pk)
    failed = finished_run(scenario)
    batch = finished_batch(scenario, rows=2)
    assert Run.objects.filter(status=RunStatus.PASSED).count() == 1

    log_in(page, "viewer@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    history = page.get_by_test_id("run-history")
    expect(history.locator("tr[data-run]")).to_have_count(4)
    page.get_by_test_id("run-filters").get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(history.locator("tr[data-run]")).to_have_count(3)
    expect(history.locator(f'tr[data-run="{passed.pk}"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Re-run")).to_have_count(0)  # read-only

    # A batch row leads to the batch: both rows failed.
    history.locator(
        f'tr[data-run] a[href="{reverse("runs:batch", kwargs={"batch_id": batch.pk})}"]'
    ).first.click()
    expect(page.get_by_test_id("batch-progress")).to_contain_text("2 / 2 done")
    page.get_by_test_id("only-failures").click()
    expect(page.get_by_test_id("batch-rows").locator("tr[data-row]")).to_have_count(2)
    expect(page.get_by_role("button", name="Cancel batch")).to_have_count(0)

    # The failing run's page offers to compare with the last pass.
    page.goto(reverse("runs:detail", kwargs={"run_id": failed.pk}))
    page.get_by_role("link", name="Compare with the last passed run").click()
    profile = page.locator('li[data-step="profile"]')
    expect(profile).to_have_attribute("data-differences", "status,assertions")
    expect(profile).to_contain_text("differs: status, assertions")
    expect(page.locator('li[data-step="login"]')).to_contain_text("same")
