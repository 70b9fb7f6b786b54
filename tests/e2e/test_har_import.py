"""In real Chromium: browse a loopback httpbin, save the HAR, import it, run the journey."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from reqflo.engine.imports import import_har
from tests.engine.imports.conftest import run_journey, statuses
from tests.httpbin_server import running_httpbin

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def httpbin() -> Iterator[str]:
    with running_httpbin() as base_url:
        yield base_url


@pytest.fixture(scope="module")
def recorded_har(browser: Browser, httpbin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Browse the loopback httpbin in real Chromium and save the HAR it records."""
    path = tmp_path_factory.mktemp("har") / "session.har"
    context = browser.new_context(record_har_path=str(path))
    try:
        page = context.new_page()
        page.goto(f"{httpbin}/html")
        page.evaluate(
            """async () => {
                await fetch('/post', {method: 'POST', headers: {'Content-Type': 'application/json',
                  'Authorization': 'Bearer browser-token-123'}, body: JSON.stringify({a: [1, 2]})});
                await fetch('/get?x=1&x=2');
                await fetch('/status/404');
                await fetch('/image/png');
            }"""
        )
    finally:
        context.close()  # writes the HAR
    return path


def test_a_har_recorded_by_chromium_runs_against_httpbin(recorded_har: Path, httpbin: str) -> None:
    result = import_har(recorded_har.read_bytes())

    [imported] = result.journeys
    steps = imported.document["journey"]["steps"]
    assert [s["request"]["url"] for s in steps] == [
        "{{ env.base_url }}/html",
        "{{ env.base_url }}/post",
        "{{ env.base_url }}/get",
        "{{ env.base_url }}/status/404",
    ]
    assert steps[1]["request"]["json"] == {"a": [1, 2]}
    assert steps[2]["request"]["query"] == {"x": ["1", "2"]}
    assert steps[3]["assertions"] == [{"type": "status_code", "expected": 404}]
    assert any("1 static asset request(s)" in str(item) for item in result.skipped)
    assert "browser-token-123" not in json.dumps(imported.document)
    assert any(item.location == "entries[1] › header Authorization" for item in result.skipped)
    run = run_journey(imported, httpbin)
    assert set(statuses(run).values()) == {"passed"}, statuses(run)


def test_a_har_keeps_assets_and_credentials_only_when_asked(recorded_har: Path) -> None:
    result = import_har(recorded_har.read_bytes(), include_assets=True, include_sensitive=True)

    steps = result.journeys[0].document["journey"]["steps"]
    assert len(steps) == 5
    assert steps[1]["request"]["headers"]["Authorization"] == "{{ secrets.authorization }}"
    assert "browser-token-123" not in json.dumps(result.journeys[0].document)
