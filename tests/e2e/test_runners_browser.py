"""In a real browser, against a real worker on RabbitMQ: an owner configures the Cloud Runner,
checks its connection, watches a run in the queue and cancels it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.runners.models import RunnerConfigChange, WorkerHeartbeat
from reqflo.runs.models import Run, RunStatus
from tests.e2e.conftest import log_in
from tests.runners.workers import Workers, finished, region, wait_for, workers
from tests.runs.fixtures import MakeScenario, Target, make_scenario, target

__all__ = ["make_scenario", "region", "target", "workers"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_owner_configures_checks_watches_the_queue_and_cancels_a_run(
    page: Page,
    owner: User,
    make_scenario: MakeScenario,
    target: Target,
    workers: Workers,
    region: str,
) -> None:
    scenario = make_scenario()  # a journey against the loopback target; default settings
    queue = workers.queue  # the queue of the region the owner is about to choose
    workers.start(concurrency=2)

    log_in(page, "owner@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runners").click()
    expect(page.get_by_role("heading", name="Runners", exact=True)).to_be_visible()

    # Settings: a bad allow-list entry is named, then the corrected settings are saved.
    settings = page.locator("#runner-settings")
    settings.get_by_label("Region").fill(region)
    settings.get_by_label("Concurrency limit").fill("3")
    settings.get_by_label("Egress allow-list").fill("127.0.0.1\nhttps://api.internal")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_text("Entry 2, “https://api.internal”, is a URL")).to_be_visible()
    settings.get_by_label("Egress allow-list").fill("127.0.0.1\napi.internal\n10.20.0.0/16")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Cloud Runner settings saved")).to_be_visible()
    # A new region reloads the page: its queue, workers and check are now the region's.
    expect(page.get_by_text(f"consume the queue {queue}.")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    changes = page.locator("#config-changes")
    expect(changes).to_contain_text(f"Region: (default) → {region}")
    expect(changes).to_contain_text("Concurrency limit: 5 → 3")
    expect(changes).to_contain_text("owner@acme.test")
    change = RunnerConfigChange.objects.get()
    assert change.changed_by == owner
    assert change.changes["egress_allow_hosts"]["new"] == [
        "127.0.0.1",
        "api.internal",
        "10.20.0.0/16",
    ]

    # The connection check: broker, the worker on the region's queue, a round trip through it.
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(queues__contains=[queue]).exists(),
        timeout=60,
        what="the worker's heartbeat",
    )
    worker = WorkerHeartbeat.objects.get(queues__contains=[queue])
    page.get_by_role("button", name="Check connection").click()
    report = page.get_by_test_id("connection-report")
    expect(report.locator(".check-ok")).to_have_count(3, timeout=20_000)
    expect(report).to_contain_text(f"1 worker consumes queue {queue}: {worker.hostname}.")
    expect(report).to_contain_text(f"was answered by {worker.hostname}")
    expect(report.locator(".check-time")).to_have_count(3)
    expect(page.locator(f'#connection tr[data-worker="{worker.hostname}"]')).to_contain_text("2")

    # A run in the queue: its second step is held at the target, so the worker holds the run.
    target.block("/profile")
    run = scenario.dispatch()
    target.wait_for_hits("/profile", 1, timeout=60)
    row = page.locator(f'#runners-live tr[data-run="{run.pk}"]')
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text(worker.hostname)
    expect(row).to_contain_text("Durable profile")
    live_worker = page.locator(f'#runners-live tr[data-worker="{worker.hostname}"]')
    expect(live_worker.locator("td").nth(3)).to_have_text("1")  # runs in progress

    # Cancel it: the worker stops before the next request; the run leaves the queue.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(
        page.get_by_text(re.compile(r"Cancelling run \w{8}: its worker stops it"))
    ).to_be_visible()
    expect(row).to_contain_text("cancelling…")
    target.release("/profile")
    wait_for(finished(run), timeout=60, what="the cancelled run to end")
    expect(row).to_have_count(0)
    expect(page.locator("#runners-live")).to_contain_text("0 queued · 0 running")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.cancelled_by == owner
    assert target.count("/echo") == 0
    assert page.evaluate("window.__sameDocument") is True  # check, queue, cancel: in place
    assert Run.objects.filter(workspace=scenario.workspace).count() == 1
    assert page.url.endswith(reverse("runners:runners"))
