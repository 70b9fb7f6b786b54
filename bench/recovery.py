"""Benchmark how fast the Cloud Runner recovers a run: after kill -9, SIGTERM and a broker drop.

Real ``celery worker`` processes on RabbitMQ (a vhost of its own: its connections are closed),
a throwaway ``test_<name>`` PostgreSQL database, and a loopback target that stamps each
request as (run, step). The sweeper runs every ``REQFLO_SWEEPER_INTERVAL_SECONDS`` in this
process, as beat would. Each figure is one run of ``--steps`` steps of ``--step-ms`` each:

1. kill -9: the worker holding the run is killed right after a checkpoint (when the next step's
   request arrives); recovery = that last checkpoint → the next step's request from another
   worker. A silent death waits for the lease: the target is under lease + 2 s.
2. SIGTERM: the holder is asked to stop; recovery = its release → the next step's request
   from another worker (no lease to wait for).
3. broker drop: every connection to the vhost is closed mid-run; recovery = the drop → the
   run's next step request, and the run keeps its single attempt.

Run from the repository root (the vhost must exist: ``rabbitmqctl add_vhost <vhost>``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.recovery --vhost reqflo_bench [--lease 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


class Target:
    """A loopback server that stamps (run, step, wall time) for each request."""

    def __init__(self, step_seconds: float) -> None:
        self.requests: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                step = int(parts.path.rsplit("/", 1)[1])
                run = parse_qs(parts.query).get("run", [""])[0]
                with target.lock:
                    target.requests.append((run, step, time.time()))
                time.sleep(step_seconds)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a killed worker leaves its connection half-read

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrivals(self, run: str, step: int) -> list[float]:
        with self.lock:
            return [at for r, s, at in self.requests if r == run and s == step]


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vhost", required=True, help="a RabbitMQ vhost of this bench's own")
    parser.add_argument("--lease", type=int, default=30, help="REQFLO_RUN_LEASE_SECONDS")
    parser.add_argument("--sweep", type=int, default=5, help="REQFLO_SWEEPER_INTERVAL_SECONDS")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--step-ms", type=int, default=300)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL URL (the bench creates test_<name>)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")
    os.environ["REQFLO_RUN_LEASE_SECONDS"] = str(args.lease)
    os.environ["REQFLO_SWEEPER_INTERVAL_SECONDS"] = str(args.sweep)
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        _bench(args)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _bench(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User
    from django.db import connection

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.runners.models import RunAttempt, WorkerHeartbeat
    from reqflo.runners.services import run_dispatch
    from reqflo.runners.sweeper import runs_sweep
    from reqflo.runs.models import TERMINAL_STATUSES, Run, RunStatus, StepResult, Trigger
    from tests.chaos.conftest import chaos_document
    from tests.runners.workers import Workers, workers_on

    target = Target(args.step_ms / 1000)
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    journey = journey_create(
        workspace=workspace, author=owner, checked=check_document(chaos_document(args.steps))
    )
    environment = environment_create(
        workspace=workspace, name="loopback", base_url=target.url, values={}
    )
    region = f"b{uuid.uuid4().hex[:10]}"
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = region
    config.max_attempts = 100
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    version = journey.head
    assert version is not None

    def dispatch() -> Run:
        return run_dispatch(
            workspace=workspace, version=version, environment=environment, trigger=Trigger.API
        ).run

    def arrived(rid: str, step: int) -> Callable[[], bool]:
        return lambda: target.arrivals(rid, step) != []

    stop_sweeping = threading.Event()

    def sweep() -> None:  # what beat does, on the same interval
        while not stop_sweeping.wait(args.sweep):
            runs_sweep()
        connection.close()

    def holder_of(workers: Workers, run: Run) -> subprocess.Popen[bytes]:
        holder = Run.objects.values_list("lease_holder", flat=True).get(pk=run.pk)
        number = int(re.match(r"runs-test-(\d+)-", holder).group(1))  # type: ignore[union-attr]
        return workers.started[number - 1]

    def start(workers: Workers) -> None:
        """Start a worker and wait until it has reported itself ready."""
        proc = workers.start()
        hostname = proc.args[proc.args.index("--hostname") + 1]  # type: ignore[union-attr]
        _wait(
            lambda: WorkerHeartbeat.objects.filter(hostname=hostname).exists(),
            timeout=120,
            what=f"worker {hostname} to be ready",
        )

    def finish(run: Run) -> Run:
        _wait(
            lambda: Run.objects.filter(pk=run.pk, status__in=TERMINAL_STATUSES).exists(),
            timeout=args.lease * 3 + 60,
            what="the run to finish",
        )
        run.refresh_from_db()
        if run.status != RunStatus.PASSED:
            raise SystemExit(f"run {run.pk} ended {run.status}: {run.error_message}")
        return run

    def stored_at(run: Run, index: int) -> float:
        return StepResult.objects.get(run=run, index=index).created_at.timestamp()

    url = f"amqp://guest:guest@127.0.0.1:5672/{args.vhost}"
    kills, terms, drops = [], [], []
    sweeper = threading.Thread(target=sweep, daemon=True)
    sweeper.start()
    with (
        tempfile.TemporaryDirectory() as logs,
        workers_on(region, Path(logs), rabbitmq=True, rabbitmq_url=url) as workers,
    ):
        workers.env["REQFLO_RUN_LEASE_SECONDS"] = str(args.lease)
        workers.env.pop("REQFLO_RUN_HEARTBEAT_SECONDS", None)  # the default: lease / 6
        start(workers)
        start(workers)
        finish(dispatch())  # both up and warm
        for _ in range(args.rounds):
            run = dispatch()
            rid = str(run.pk)
            _wait(arrived(rid, 3), 60, "step 4")
            victim = holder_of(workers, run)
            workers.kill(victim)
            checkpoint = stored_at(run, 2)
            start(workers)  # a replacement, so two workers serve again
            finish(run)
            resumed = target.arrivals(rid, 3)[-1]
            kills.append(resumed - checkpoint)

        for _ in range(args.rounds):
            run = dispatch()
            rid = str(run.pk)
            _wait(arrived(rid, 3), 60, "step 4")
            victim = holder_of(workers, run)
            os.kill(victim.pid, signal.SIGTERM)
            finish(run)
            first = RunAttempt.objects.filter(run=run).order_by("number").first()
            assert first is not None
            assert first.ended_at is not None
            released = first.ended_at.timestamp()
            following = [
                at for s in range(args.steps) for at in target.arrivals(rid, s) if at > released
            ]
            terms.append(min(following) - released)
            victim.wait(timeout=60)
            start(workers)

        for _ in range(args.rounds):
            run = dispatch()
            rid = str(run.pk)
            _wait(arrived(rid, 3), 60, "step 4")
            dropped = time.time()
            subprocess.run(
                [
                    "rabbitmqctl",
                    "-q",
                    "close_all_connections",
                    "--vhost",
                    args.vhost,
                    "--limit",
                    "1000",
                    "bench",
                ],
                check=True,
                capture_output=True,
            )
            finish(run)
            following = [
                at for s in range(args.steps) for at in target.arrivals(rid, s) if at > dropped
            ]
            drops.append(min(following) - dropped)
            attempts = Run.objects.values_list("attempts", flat=True).get(pk=run.pk)
            if attempts != 1:
                raise SystemExit(f"a broker drop cost run {run.pk} an attempt ({attempts})")
    stop_sweeping.set()
    sweeper.join(timeout=args.sweep + 5)

    def line(name: str, samples: list[float]) -> None:
        print(
            f"{name}: median {statistics.median(samples):.2f} s, max {max(samples):.2f} s "
            f"({', '.join(f'{s:.2f}' for s in samples)})"
        )

    load = os.getloadavg()
    print(
        f"lease {args.lease} s (heartbeat {max(1, args.lease // 6)} s), sweeper every "
        f"{args.sweep} s, {args.steps} steps of {args.step_ms} ms, {args.rounds} rounds, "
        f"load average {load[0]:.1f}/{load[1]:.1f}"
    )
    line("kill -9: last checkpoint -> next step elsewhere", kills)
    line("SIGTERM: release -> next step elsewhere", terms)
    line("broker drop: drop -> next step (one attempt)", drops)


if __name__ == "__main__":
    main()
