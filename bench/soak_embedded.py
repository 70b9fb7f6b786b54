"""Soak the embedded default: start it as `make run` does and keep it busy for a while.

Starts migrate, seed_demo and ``manage.py start_all`` (web, worker, beat) in a fresh ``var/``
folder on a free port, with no production variable set, then for ``--minutes``:

- a worker ping through the broker every second (``reqflo.core.diagnostics.worker_round_trip``);
- a cloud run of the demo "Checkout flow" (five steps against the demo shop on the same server)
  dispatched every ``--run-every`` seconds through ``run_dispatch``;
- a page request to the web server every second;
- the sweeper on its real beat schedule (every 5 s).

At the end it waits for the runs to finish, stops the stack with SIGINT as Ctrl-C would, and
reports: pings sent and answered (with median and p95 round trip), runs dispatched, passed,
failed and lost, dispatch→start latency, sweeps sent by beat, page requests failed, program
restarts, and CRITICAL lines in the log. It exits 1 if anything was lost, unanswered or
restarted. Run from the repository root:

    .venv/bin/python -m bench.soak_embedded --minutes 30

The suite runs it for 3 minutes (``tests/test_soak_embedded.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Everything that would switch the app away from the embedded default.
PRODUCTION_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "REQFLO_SECRETS_KEY",
    "DJANGO_SETTINGS_MODULE",
    "REQFLO_DEMO_TARGET",
    "ALLOWED_HOSTS",
    "DEBUG",
    "REQFLO_DEFAULT_QUEUE",
)


@dataclass
class Figures:
    minutes: float = 0.0
    pings_sent: int = 0
    pings_answered: int = 0
    ping_median_ms: float = 0.0
    ping_p95_ms: float = 0.0
    runs_dispatched: int = 0
    runs_passed: int = 0
    runs_not_passed: int = 0
    runs_lost: int = 0
    dispatch_to_start_median_ms: float = 0.0
    dispatch_to_start_p95_ms: float = 0.0
    sweeps_sent: int = 0
    page_requests: int = 0
    page_failures: int = 0
    restarts: int = 0
    critical_lines: int = 0
    problems: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    env["REQFLO_VAR_DIR"] = str(var_dir)
    env["REQFLO_BIND"] = f"127.0.0.1:{_free_port()}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["REQFLO_LOG_HOUSEKEEPING"] = "1"  # beat's "Sending due task" lines are counted below
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def _start_stack(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "start_all"],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return proc


def _stop_stack(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for_web(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("start_all stopped before the web server answered")
        try:
            httpx.get(base + "/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit("the web server did not answer within 90 s")


def soak(*, minutes: float, run_every: float, var_dir: Path) -> Figures:
    env = _embedded_env(var_dir)
    # This process drives the stack through the same settings: SQLite and the broker in var/.
    for name in PRODUCTION_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(REQFLO_VAR_DIR=env["REQFLO_VAR_DIR"], REQFLO_BIND=env["REQFLO_BIND"])
    os.environ["DJANGO_SETTINGS_MODULE"] = "reqflo.settings"

    _manage(env, "migrate", "--no-input")
    _manage(env, "seed_demo")
    log = var_dir / "start_all.log"
    proc = _start_stack(env, log)
    base = f"http://{env['REQFLO_BIND']}"
    figures = Figures(minutes=minutes)
    try:
        _wait_for_web(base, proc)
        _drive(figures, base=base, minutes=minutes, run_every=run_every)
    finally:
        _stop_stack(proc)
    _read_log(figures, log.read_text(errors="replace"))
    return figures


def _drive(figures: Figures, *, base: str, minutes: float, run_every: float) -> None:
    import django
    import httpx

    django.setup()
    from reqflo.core.diagnostics import WorkerUnreachable, worker_round_trip
    from reqflo.journeys.models import Environment, Journey
    from reqflo.runners.services import run_dispatch
    from reqflo.runs.models import TERMINAL_STATUSES, Run, RunStatus, Trigger

    journey = Journey.objects.select_related("workspace").get(
        workspace__slug="demo", slug="checkout"
    )
    version = journey.head
    environment = Environment.objects.get(workspace=journey.workspace, name="demo")
    ping_ms: list[float] = []
    run_ids: list[Any] = []
    end = time.monotonic() + minutes * 60
    next_run = time.monotonic()
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < end:
            tick = time.monotonic()
            figures.pings_sent += 1
            try:
                ping_ms.append(worker_round_trip(timeout=10).milliseconds)
                figures.pings_answered += 1
            except WorkerUnreachable as exc:
                figures.problems.append(f"ping {figures.pings_sent} unanswered: {exc}")
            figures.page_requests += 1
            try:
                if client.get(base + "/").status_code >= 500:
                    figures.page_failures += 1
            except httpx.TransportError as exc:
                figures.page_failures += 1
                figures.problems.append(f"page request failed: {exc}")
            if time.monotonic() >= next_run:
                run = run_dispatch(
                    workspace=journey.workspace,
                    version=version,
                    environment=environment,
                    trigger=Trigger.CLI,
                ).run
                run_ids.append(run.pk)
                figures.runs_dispatched += 1
                next_run += run_every
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    deadline = time.monotonic() + 120
    while Run.objects.filter(pk__in=run_ids).exclude(status__in=TERMINAL_STATUSES).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    runs = list(Run.objects.filter(pk__in=run_ids))
    figures.runs_passed = sum(run.status == RunStatus.PASSED for run in runs)
    figures.runs_lost = len(run_ids) - sum(run.status in TERMINAL_STATUSES for run in runs)
    figures.runs_not_passed = len(runs) - figures.runs_passed - figures.runs_lost
    for run in runs:
        if run.status != RunStatus.PASSED:
            figures.problems.append(f"run {run.pk} ended {run.status}: {run.error_message}")
    starts = [
        (run.started_at - run.created_at).total_seconds() * 1000 for run in runs if run.started_at
    ]
    figures.ping_median_ms = round(statistics.median(ping_ms), 1) if ping_ms else 0.0
    figures.ping_p95_ms = round(_p95(ping_ms), 1)
    figures.dispatch_to_start_median_ms = round(statistics.median(starts), 1) if starts else 0.0
    figures.dispatch_to_start_p95_ms = round(_p95(starts), 1)


def _read_log(figures: Figures, text: str) -> None:
    lines = text.splitlines()
    figures.sweeps_sent = sum("Sending due task sweep-expired-runs" in line for line in lines)
    figures.restarts = sum("exited unexpectedly" in line for line in lines)
    critical = [line for line in lines if "CRITICAL" in line or "Unrecoverable" in line]
    figures.critical_lines = len(critical)
    figures.problems.extend(critical[:10])


def healthy(figures: Figures) -> bool:
    """True when nothing was lost, unanswered, failed, restarted or critical."""
    return (
        figures.pings_answered == figures.pings_sent > 0
        and figures.runs_dispatched > 0
        and figures.runs_passed == figures.runs_dispatched
        and figures.page_failures == 0
        and figures.restarts == 0
        and figures.critical_lines == 0
        and figures.sweeps_sent > 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--run-every", type=float, default=5.0, help="seconds between runs")
    parser.add_argument("--var", type=Path, help="var/ folder to use (default: a new temp one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    var_dir = args.var or Path(tempfile.mkdtemp(prefix="reqflo-soak-"))
    figures = soak(minutes=args.minutes, run_every=args.run_every, var_dir=var_dir)
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        for key, value in asdict(figures).items():
            print(f"{key:32} {value}")
        print(f"{'log':32} {var_dir / 'start_all.log'}")
    sys.exit(0 if healthy(figures) else 1)


if __name__ == "__main__":
    main()
