"""In a real browser, with a real ``reqflo runner start`` process: an owner registers a runner,
starts it with the token the page showed once, watches it online with a run in flight, and
revokes it; the runner stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from reqflo.runners.models import SelfHostedRunner
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.e2e.conftest import log_in
from tests.runs.fixtures import MakeScenario, Target, make_scenario, target

__all__ = ["make_scenario", "target"]  # fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REQFLO = Path(sys.executable).parent / "reqflo"


def test_owner_registers_starts_watches_and_revokes_a_self_hosted_runner(
    page: Page,
    owner: User,
    make_scenario: MakeScenario,
    target: Target,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    scenario = make_scenario()
    log_in(page, "owner@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runners").click()

    register = page.locator("#self-hosted-register")
    register.get_by_label("Name").fill("vpn-eu-1")
    register.get_by_label("Labels").fill("vpn,eu")
    register.get_by_label("Capacity").fill("2")
    register.get_by_role("button", name="Register runner").click()
    shown = page.get_by_test_id("runner-token")
    expect(shown).to_contain_text("copy it now, it is not shown again")
    assignment, command = shown.get_by_test_id("runner-start").inner_text().strip().splitlines()
    key = assignment.removeprefix("export REQFLO_RUNNER_TOKEN=")
    assert key.startswith("rqr_")
    assert command == f"reqflo runner start --url {live_server.url}"
    expect(shown).not_to_contain_text("--token")
    expect(page.locator('#self-hosted-runners tr[data-runner="vpn-eu-1"]')).to_contain_text(
        "never connected"
    )

    environ = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_")}
    log = (tmp_path / "runner.log").open("wb")
    runner = subprocess.Popen(
        [str(REQFLO), "runner", "start", "--url", live_server.url],
        env={**environ, "REQFLO_RUNNER_TOKEN": key, "REQFLO_RUNNER_POLL_SECONDS": "2"},
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        row = page.locator('#self-hosted-runners tr[data-runner="vpn-eu-1"]')
        expect(row).to_have_attribute("data-status", "online", timeout=20_000)
        expect(row).to_contain_text("0 / 2")
        expect(row).to_contain_text("vpn")

        target.block("/profile")
        run = run_dispatch(
            workspace=scenario.workspace,
            version=scenario.version,
            environment=scenario.environment,
            trigger=Trigger.API,
            triggered_by=owner,
            runner_labels=["vpn"],
        ).run
        target.wait_for_hits("/profile", 1, timeout=20)
        expect(row.get_by_test_id("runner-load")).to_have_text("1 / 2")
        expect(row).to_contain_text(str(run.pk)[:8])

        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text("Runner vpn-eu-1 revoked")).to_be_visible()
        expect(page.locator('#self-hosted-runners tr[data-runner="vpn-eu-1"]')).to_have_attribute(
            "data-status", "revoked"
        )
        assert runner.wait(timeout=20) == 3
        target.release("/profile")
        assert SelfHostedRunner.objects.get().revoked_at is not None
        assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING  # released, to requeue
        assert key not in (tmp_path / "runner.log").read_text()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
        log.close()
