"""Issue 13, kind 7: `timeout_ms` is a wall-clock deadline for the whole exchange, everywhere.

Each slow target below would keep an exchange alive ten times longer than the step's timeout
if the timeout bounded each socket read instead (httpx's own timeouts do). The bound asserted on
the time taken is far from both the timeout and the target's own duration, so the test is not a
race: it fails only if the deadline is not enforced.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from reqflo.engine import RunOptions, new_client
from reqflo.engine.egress import EgressTransport
from tests.cli.conftest import run_in_process
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

TIMEOUT_MS = 1000
# Each slow route below takes at least 10 s when left alone.
SLOW_ROUTES = {
    "headers": "/slow-headers?every=0.25&lines=40",
    "body": "/slow-body?every=0.25&bytes=40",
    "redirects": "/slow-redirects?n=40&every=0.25",
}
ENOUGH = 5.0  # seconds: far above the 1 s deadline, far below the 10 s the targets take


def journey(path: str, timeout_ms: int = TIMEOUT_MS) -> str:
    return f"""
journey:
  name: Slow
  steps:
    - id: slow
      request: {{method: GET, url: "{{{{ env.base_url }}}}{path}"}}
      timeout_ms: {timeout_ms}
      assertions: [{{type: status_code, expected: 200}}]
"""


@pytest.mark.parametrize("route", sorted(SLOW_ROUTES))
def test_a_slow_target_ends_at_the_step_deadline(targets: Targets, route: str) -> None:
    started = time.monotonic()
    result = run_text(journey(SLOW_ROUTES[route]), targets.main.base_url)
    took = time.monotonic() - started

    error = result.steps[0].error
    assert error is not None
    assert error.kind == "timeout"
    assert f"{TIMEOUT_MS} ms" in error.message
    assert took < ENOUGH


def test_the_default_timeout_is_a_deadline_too(targets: Targets) -> None:
    text = journey(SLOW_ROUTES["headers"]).replace(f"      timeout_ms: {TIMEOUT_MS}\n", "")
    started = time.monotonic()
    result = run_text(
        text, targets.main.base_url, options=RunOptions(default_timeout_ms=TIMEOUT_MS)
    )

    assert result.steps[0].error is not None
    assert result.steps[0].error.kind == "timeout"
    assert time.monotonic() - started < ENOUGH


def test_a_target_within_the_deadline_passes(targets: Targets) -> None:
    result = run_text(
        journey("/slow-headers?every=0.05&lines=3", timeout_ms=5000), targets.main.base_url
    )

    assert result.steps[0].status == "passed"


@pytest.mark.parametrize("kind", ["plain httpx client", "cloud worker's egress transport"])
def test_clients_made_outside_the_engine_honour_the_deadline(targets: Targets, kind: str) -> None:
    """The cloud worker builds its client around its egress transport; tests pass their own."""
    if kind == "plain httpx client":
        client = httpx.Client()
    else:
        client = new_client(
            verify_tls=True, transport=EgressTransport(allow=[], allow_private=True)
        )
    started = time.monotonic()
    with client:
        result = run_text(journey(SLOW_ROUTES["headers"]), targets.main.base_url, client=client)

    assert result.steps[0].error is not None
    assert result.steps[0].error.kind == "timeout"
    assert time.monotonic() - started < ENOUGH


def test_the_cli_stops_a_slow_target_at_the_deadline(targets: Targets, tmp_path: Path) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text(journey(SLOW_ROUTES["headers"]))
    (tmp_path / "reqflo.yaml").write_text(
        f"environments:\n  local:\n    base_url: {targets.main.base_url}\n"
    )
    started = time.monotonic()
    result = run_in_process("run", path, "--env", "local", cwd=tmp_path)

    assert result.code == 1, result.output
    assert "timeout" in result.output
    assert time.monotonic() - started < ENOUGH


def test_the_issues_input_one_header_line_every_half_second_with_a_3_s_timeout(
    targets: Targets,
) -> None:
    """Reported: this target kept a step with a 3 s timeout alive for 23 s."""
    started = time.monotonic()
    result = run_text(
        journey("/slow-headers?every=0.5&lines=46", timeout_ms=3000), targets.main.base_url
    )

    assert result.steps[0].error is not None
    assert result.steps[0].error.kind == "timeout"
    assert time.monotonic() - started < 3 + 2
