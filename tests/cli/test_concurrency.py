"""`--parallel N` runs as many rows at once as pay off, never more than N, and loses nothing.

The limit's decisions are checked against a simulated clock (a target whose speed per slot is
known); the rest runs real rows against the loopback echo server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reqflo.cli.concurrency import HOLD_EPOCHS, AdaptiveLimit
from reqflo.cli.execute import Job, RunContext, execute
from reqflo.engine import compile_definition, load_definition
from tests.cli.conftest import REQFLO, EchoServer, run_in_process


def simulate(bound: int, seconds_per_run: Callable[[int], float], runs: int = 600) -> AdaptiveLimit:
    """Finish `runs` runs one after another, each taking `seconds_per_run(limit)` of the clock."""
    now = 0.0
    limit = AdaptiveLimit(bound, clock=lambda: now)
    for _ in range(runs):
        assert limit.enter()
        now += seconds_per_run(limit.limit)
        limit.leave()
    return limit


def test_a_target_that_waits_is_given_every_slot_within_three_probes() -> None:
    # 20 ms per request: eight slots finish eight times as many runs.
    limit = simulate(8, lambda slots: 0.1 / slots)

    assert limit.levels[:4] == [1, 2, 4, 8]
    # Then it stays, but for a short look at half the slots every HOLD_EPOCHS epochs.
    assert set(limit.levels[3:]) == {4, 8}


def test_a_fast_target_stays_at_one_slot_but_for_short_probes() -> None:
    # Pure CPU: a second slot only adds contention.
    limit = simulate(8, lambda slots: 0.005 * (1 + 0.3 * (slots - 1)), runs=3000)

    assert limit.limit == 1
    assert set(limit.levels) == {1, 2}
    # One probe per HOLD_EPOCHS epochs of at least 0.1 s: a few percent of the time.
    assert limit.levels.count(2) <= 3000 * 0.005 / (0.1 * HOLD_EPOCHS) + 1


def test_a_noisy_gain_below_the_threshold_does_not_ratchet_the_limit_up() -> None:
    limit = simulate(8, lambda slots: 0.01 / (1 + 0.1 * (slots - 1)), runs=3000)

    assert max(limit.levels) == 2
    assert limit.limit == 1


def test_a_target_that_becomes_fast_is_given_fewer_slots() -> None:
    phase = {"fast": False}

    def seconds(slots: int) -> float:
        return 0.005 * (1 + 0.3 * (slots - 1)) if phase["fast"] else 0.1 / slots

    now = 0.0
    limit = AdaptiveLimit(4, clock=lambda: now)
    for run in range(4000):
        phase["fast"] = run > 300
        assert limit.enter()
        now += seconds(limit.limit)
        limit.leave()

    assert 4 in limit.levels
    assert limit.limit <= 2


def test_the_bound_is_never_passed_and_one_means_one() -> None:
    assert simulate(3, lambda slots: 0.1 / slots).levels[:3] == [1, 2, 3]
    assert max(simulate(3, lambda slots: 0.1 / slots).levels) == 3
    assert simulate(1, lambda slots: 0.1).levels == [1]


def test_a_waiting_enter_gives_up_when_asked_to_stop() -> None:
    limit = AdaptiveLimit(1)
    assert limit.enter()

    assert limit.enter(stop=lambda: True) is False


JOURNEY = """
journey:
  name: Echo
  inputs: [{name: ms, type: integer}, {name: ok, default: "yes"}]
  steps:
    - id: call
      request:
        method: GET
        url: "{{ env.base_url }}/r"
        query: {sleep_ms: "{{ inputs.ms }}", ok: "{{ inputs.ok }}"}
      assertions: [{type: json_path, path: $.query.ok, operator: equals, expected: "yes"}]
"""


def run_rows(echo: EchoServer, rows: list[dict[str, object]], limit: AdaptiveLimit) -> list:
    context = RunContext(
        artifact=compile_definition(load_definition(JOURNEY)),
        environment={"base_url": echo.url},
        environment_name=None,
        secrets={},
    )
    jobs = (Job(index=i, inputs=row, label=f"r{i}") for i, row in enumerate(rows))
    return list(execute(context, jobs, parallel=limit.bound, limit=limit))


def test_rows_that_wait_on_the_target_run_side_by_side_up_to_the_bound(
    echo: EchoServer,
) -> None:
    limit = AdaptiveLimit(4)

    results = run_rows(echo, [{"ms": 40, "ok": "yes"}] * 40, limit)

    assert [r.label for r in results] == [f"r{i}" for i in range(40)]
    assert all(r.passed for r in results)
    assert 4 in limit.levels
    assert echo.max_in_flight == 4


def test_parallel_rows_are_all_reported_in_order_with_their_failures(
    tmp_path: Path, echo: EchoServer
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "case,ms,ok\n"
        + "".join(f"r{i},{i % 4 * 10},{'no' if i % 3 == 0 else 'yes'}\n" for i in range(60))
    )
    journey = tmp_path / "echo.yaml"
    journey.write_text(JOURNEY.replace("{{ env.base_url }}", echo.url))

    result = run_in_process("run", journey, "--data", rows, "--parallel", "8", "--reporter", "json")

    assert result.code == 1
    runs = json.loads(result.stdout)["runs"]
    assert [run["label"] for run in runs] == [f"r{i}" for i in range(60)]
    assert [run["status"] for run in runs] == [
        "failed" if i % 3 == 0 else "passed" for i in range(60)
    ]
    assert json.loads(result.stdout)["summary"]["failed"] == 20


@pytest.mark.slow
def test_ctrl_c_stops_a_parallel_run_promptly_without_a_traceback(
    tmp_path: Path, echo: EchoServer
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("ms\n" + "300\n" * 200)  # a minute of work at 4 rows at once
    journey = tmp_path / "echo.yaml"
    journey.write_text(JOURNEY.replace("{{ env.base_url }}", echo.url))
    process = subprocess.Popen(
        [str(REQFLO), "run", str(journey), "--data", str(rows), "--parallel", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while echo.max_in_flight < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # rows are running side by side

    process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert stderr.endswith("reqflo: interrupted\n"), stderr
    assert "Traceback" not in stdout + stderr
    # Rows in flight finish (300 ms each); rows not started are dropped, not run.
    assert time.monotonic() - interrupted < 5
    assert echo.in_flight == 0
