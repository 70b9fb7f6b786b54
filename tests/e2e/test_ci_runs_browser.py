"""A CI run published by the real ``reqflo run --publish`` process, seen in a real Chromium.

The CLI publishes to the test's live server as a GitHub Actions job would (twice: a retried
job); a viewer finds the one run in history by the CI filters and reads its CI facts and its
verified evidence chain on the run page.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from reqflo.runs.models import Run
from tests.cli.conftest import run_subprocess
from tests.conftest import Loopback
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


class Ok(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _publish(folder: Path, url: str, token: str, attempt: str) -> None:
    env = {
        "REQFLO_URL": url,
        "REQFLO_TOKEN": token,
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/storefront",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": attempt,
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "journeys",
        "GITHUB_SHA": COMMIT,
        "GITHUB_REF_NAME": "release/2.1",
        "GITHUB_HEAD_REF": "",
    }
    result = run_subprocess(
        "run", "smoke.yaml", "--env", "preview", "--publish", env=env, cwd=folder
    )
    assert result.code == 0, result.output


def test_a_published_ci_run_shows_its_ci_facts_and_is_found_by_them(
    page: Page,
    live_server: LiveServer,
    workspace: Workspace,
    editor: User,
    viewer: User,
    loopback: Loopback,
    tmp_path: Path,
) -> None:
    target = loopback(Ok).url
    journey = {
        "journey": {
            "name": "Storefront smoke",
            "steps": [
                {
                    "id": "home",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        }
    }
    (tmp_path / "smoke.yaml").write_text(yaml.safe_dump(journey))
    (tmp_path / "reqflo.yaml").write_text(
        yaml.safe_dump({"environments": {"preview": {"base_url": target}}})
    )
    token = api_token_create(user=editor, workspace=workspace, name="ci").key
    _publish(tmp_path, live_server.url, token, "1")
    _publish(tmp_path, live_server.url, token, "2")  # the job, retried
    run = Run.objects.get()

    log_in(page, "viewer@acme.test")
    page.goto(reverse("runs:list"))
    filters = page.get_by_test_id("run-filters")
    filters.get_by_label("Trigger").select_option(label="CI")
    filters.get_by_label("CI repository").fill("acme/storefront")
    filters.get_by_label("CI repository").dispatch_event("change")
    rows = page.get_by_test_id("run-history").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("ci-origin")).to_have_text("acme/storefront · release/2.1")
    filters.get_by_label("CI repository").fill("acme/elsewhere")
    filters.get_by_label("CI repository").dispatch_event("change")
    expect(page.get_by_text("No run matches")).to_be_visible()

    page.goto(reverse("runs:detail", args=[run.pk]))
    facts = page.get_by_test_id("ci-facts")
    expect(facts).to_contain_text("GitHub Actions")
    expect(facts.get_by_test_id("ci-repository")).to_have_text("acme/storefront")
    expect(facts.get_by_test_id("ci-ref")).to_have_text("release/2.1")
    expect(facts.get_by_test_id("ci-commit")).to_have_text(COMMIT[:12])
    expect(facts.get_by_test_id("ci-job-url")).to_have_attribute(
        "href", "https://github.com/acme/storefront/actions/runs/4242"
    )
    expect(facts.get_by_test_id("ci-later-attempts")).to_contain_text("attempt 2 passed")
    expect(page.get_by_test_id("run-facts")).to_contain_text("Trigger")
    expect(page.get_by_test_id("run-facts")).to_contain_text("CI")
    expect(page.get_by_test_id("chain")).to_contain_text("evidence digest chain verifies")
