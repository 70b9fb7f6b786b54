"""`--parallel N` runs as many rows at once as pay off, never more than N, and loses nothing.

The limit's decisions are checked against a simulated clock (a target whose speed per slot is
known); the rest runs real rows against the loopback echo server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.cli.concurrency import AdaptiveLimit, debug_log
from reqflo.cli.execute import Job, RunContext, execute
from reqflo.engine import StepResult, compile_definition, load_definition
from tests.cli.conftest import REQFLO, EchoServer, run_in_process

Model = Callable[[int], tuple[float, float]]


def target(cpu: float, wait: float = 0.0, contention: float = 0.0) -> Model:
    """A target over one interpreter: per run `cpu` seconds of its CPU and `wait` on the network.

    With `slots` runs in flight a run finishes every max(cpu, (cpu + wait) / slots) seconds: the
    waits overlap, the CPU does not (the GIL). `contention` is extra CPU per extra slot (threads
    fighting over the GIL). Returns (wall seconds per finished run, CPU seconds per run).
    """

    def per_run(slots: int) -> tuple[float, float]:
        used = cpu * (1 + contention * (slots - 1))
        return max(used, (used + wait) / slots), used

    return per_run


FAST = target(0.004, wait=0.0004, contention=0.3)  # the loopback demo shop: ~90% busy
SLOW = target(0.003, wait=0.1)  # five steps against a 20 ms target


class Simulation:
    """Finish runs one after another on simulated wall and CPU clocks."""

    def __init__(self, bound: int) -> None:
        self.now = 0.0
        self.cpu = 0.0
        self.limit = AdaptiveLimit(bound, clock=lambda: self.now, cpu_clock=lambda: self.cpu)

    def run(self, model: Model, runs: int) -> float:
        """Run `runs` runs; return the simulated wall seconds they took."""
        began = self.now
        for _ in range(runs):
            assert self.limit.enter()
            wall, cpu = model(self.limit.limit)
            self.now += wall
            self.cpu += cpu
            self.limit.leave()
        return self.now - began


def simulate(bound: int, model: Model, runs: int = 600) -> AdaptiveLimit:
    simulation = Simulation(bound)
    simulation.run(model, runs)
    return simulation.limit


def test_a_target_that_waits_is_given_every_slot_within_four_epochs() -> None:
    simulation = Simulation(8)
    simulation.run(SLOW, 1)  # warm-up, not measured

    epochs = 0
    while simulation.limit.limit < 8:
        simulation.run(SLOW, 2 * simulation.limit.limit)  # one epoch at this level
        epochs += 1
    simulation.run(SLOW, 3000)

    assert epochs <= 4
    # At the bound with the interpreter mostly idle there is nothing left to try.
    assert simulation.limit.levels == [1, 2, 4, 8]
    assert simulation.limit.probes == 3


@settings(max_examples=200, deadline=None)
@given(
    cpu=st.floats(0.0005, 0.05),
    idle=st.floats(0.0, 0.15),
    contention=st.floats(0.0, 1.0),
    bound=st.integers(2, 64),
)
def test_a_busy_interpreter_never_probes_and_loses_nothing(
    cpu: float, idle: float, contention: float, bound: int
) -> None:
    # Headroom below GAIN: no number of slots could pay enough, so none is tried.
    model = target(cpu, wait=cpu * idle, contention=contention)
    one, many = Simulation(1), Simulation(bound)

    assert many.run(model, 2000) == pytest.approx(one.run(model, 2000))
    assert many.limit.levels == [1]
    assert many.limit.probes == 0


def test_a_slow_first_run_does_not_make_a_fast_target_look_like_it_waits() -> None:
    # The first run imports, connects and fills caches: 25x the time of the next ones. Counted
    # in the first epoch, it made a probe at 2 look 5x faster and kept it for the whole run.
    simulation = Simulation(8)
    simulation.run(lambda slots: (0.1, 0.02), 1)
    simulation.run(FAST, 3000)

    assert simulation.limit.levels == [1]


def test_probes_that_do_not_pay_back_off_exponentially() -> None:
    # Runs wait on the target (headroom 6x) but a second slot gains only 10%: a target that
    # serves about one request at a time. 36 s of 0.1 s epochs: a probe every 16 epochs would
    # be 22 probes.
    model = lambda slots: (0.01 / (1 + 0.1 * (slots - 1)), 0.0016)  # noqa: E731
    one, many = Simulation(1), Simulation(8)
    alone = one.run(model, 3600)

    elapsed = many.run(model, 3600)

    assert max(many.limit.levels) == 2
    assert many.limit.limit == 1
    assert many.limit.probes <= 6
    assert elapsed <= alone * 1.01


def test_a_target_that_becomes_fast_gives_its_slots_back() -> None:
    simulation = Simulation(8)
    simulation.run(SLOW, 400)
    assert simulation.limit.limit == 8

    # Busy at 8, so it looks downward: 4, then 2, then 1, each at least as fast.
    simulation.run(FAST, 2000)

    assert simulation.limit.limit == 1
    assert simulation.limit.levels[-4:] == [8, 4, 2, 1]


def test_a_target_that_becomes_slow_gets_every_slot_within_seven_epochs() -> None:
    simulation = Simulation(8)
    simulation.run(FAST, 2000)
    assert simulation.limit.levels == [1]

    began = simulation.now
    while simulation.limit.limit < 8:
        simulation.run(SLOW, 1)
        # Epochs of 0.206 s: one half fast, a probe judged against it (failed), the look again
        # once the rate fell, and three probes that pay.
        assert simulation.now - began < 7 * 0.21

    assert simulation.limit.levels[-3:] == [2, 4, 8]


def test_a_target_that_saturates_the_interpreter_stops_climbing_there() -> None:
    # 3 ms of CPU and 9 ms of waiting per run: four slots keep the interpreter busy.
    simulation = Simulation(16)
    simulation.run(target(0.003, wait=0.009), 5000)

    assert simulation.limit.limit == 4
    assert max(simulation.limit.levels) == 4
    # At 4 it looks down now and then (2 is slower), less and less often.
    assert simulation.limit.levels.count(2) <= 6


def test_the_bound_is_never_passed_and_one_means_one() -> None:
    assert simulate(3, SLOW).levels[:3] == [1, 2, 3]
    assert max(simulate(3, SLOW).levels) == 3
    assert simulate(1, SLOW).levels == [1]


def test_a_waiting_enter_gives_up_when_asked_to_stop() -> None:
    limit = AdaptiveLimit(1)
    assert limit.enter()

    assert limit.enter(stop=lambda: True) is False


def test_the_debug_log_names_each_epoch_and_decision() -> None:
    lines: list[str] = []
    now = cpu = 0.0
    limit = AdaptiveLimit(8, clock=lambda: now, cpu_clock=lambda: cpu, log=lines.append)
    for _ in range(9):  # a warm-up run, then two epochs of four
        limit.enter()
        now, cpu = now + 0.03, cpu + 0.003
        limit.leave()

    # A target whose waits do not overlap: a second slot is no faster.
    assert lines == [
        "  0.150 s  limit 1: 4 runs in 0.120 s = 33.3/s, CPU 10% of wall (headroom 10.00x): "
        "probe 2",
        "  0.270 s  limit 2: 4 runs in 0.120 s = 33.3/s, CPU 10% of wall (headroom 10.00x): "
        "1.00x, back to 1; next look in 32 epochs",
    ]
    assert debug_log({"REQFLO_DEBUG_PARALLEL": "1"}) is not None
    assert debug_log({"REQFLO_DEBUG_PARALLEL": "0"}) is None
    assert debug_log({}) is None


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


NUMBERED = """
journey:
  name: Numbered echo
  inputs: [{name: n, type: integer}, {name: ms, type: integer}]
  steps:
    - id: call
      request:
        method: GET
        url: "{{ env.base_url }}/r"
        query: {sleep_ms: "{{ inputs.ms }}", n: "{{ inputs.n }}"}
      assertions: [{type: status_code, expected: 200}]
"""


class ScriptedLimit(AdaptiveLimit):
    """A gate whose limit follows `script` (runs finished -> limit), not what it measures."""

    def __init__(self, bound: int, script: dict[int, int]) -> None:
        super().__init__(bound, clock=lambda: 0.0)  # no epoch ever ends: no decisions
        self.script = script
        self.finished = 0
        self._count = threading.Lock()

    def leave(self) -> None:
        with self._count:
            self.finished += 1
            self.limit = self.script.get(self.finished, self.limit)
        super().leave()


def run_numbered(echo: EchoServer, rows: int, ms: int, limit: AdaptiveLimit) -> dict[int, str]:
    """Run `rows` rows through `execute`; return the thread each row ran in, by row number."""
    threads: dict[int, str] = {}

    def on_step(step: StepResult) -> None:
        assert step.final is not None
        assert step.final.request is not None
        number = int(parse_qs(urlsplit(step.final.request.url).query)["n"][0])
        threads[number] = threading.current_thread().name

    context = RunContext(
        artifact=compile_definition(load_definition(NUMBERED)),
        environment={"base_url": echo.url},
        environment_name=None,
        secrets={},
        on_step=on_step,
    )
    jobs = (Job(index=n, inputs={"n": n, "ms": ms}, label=f"r{n}") for n in range(rows))
    results = list(execute(context, jobs, parallel=limit.bound, limit=limit))
    assert [r.label for r in results] == [f"r{n}" for n in range(rows)]
    assert all(r.passed for r in results)
    return threads


def test_while_one_row_at_a_time_pays_rows_run_in_the_calling_thread(echo: EchoServer) -> None:
    # CPU time counted as equal to wall time: no headroom, so the limit never rises.
    limit = AdaptiveLimit(4, cpu_clock=time.monotonic)

    threads = run_numbered(echo, 60, 0, limit)

    assert set(threads.values()) == {threading.main_thread().name}
    assert limit.levels == [1]
    assert echo.max_in_flight == 1


def test_rows_move_between_the_calling_thread_and_the_pool_as_the_limit_moves(
    echo: EchoServer,
) -> None:
    limit = ScriptedLimit(4, {10: 3, 30: 1})

    threads = run_numbered(echo, 50, 20, limit)

    main = threading.main_thread().name
    assert [threads[n] for n in range(10)] == [main] * 10
    assert {threads[n] for n in range(10, 30)} <= {f"reqflo-run_{i}" for i in range(4)}
    assert [threads[n] for n in range(40, 50)] == [main] * 10
    assert echo.max_in_flight == 3


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
