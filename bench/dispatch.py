"""Benchmark the Cloud Runner's dispatch on RabbitMQ with real Celery worker processes.

Measures, against a throwaway ``test_<name>`` PostgreSQL database and a queue of its own:

1. dispatch → first request at the target: ``run_dispatch`` of a one-step journey with an idle,
   warm worker, until a loopback target sees the request (``--runs`` times, one at a time);
2. fan-out creation: ``batch_dispatch`` of ``--rows`` rows (Run check of every row, the children);
3. throughput: a batch of ``--batch`` one-step runs executed by 1, then 2 worker processes
   (concurrency 1 each), in runs per second from dispatch to the last run finished.

Run from the repository root (RabbitMQ on 127.0.0.1:5672):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.dispatch [--runs 30] [--rows 1000] [--batch 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import bench_database

ONE_STEP: dict[str, Any] = {
    "journey": {
        "name": "Ping",
        "inputs": [{"name": "n", "type": "integer", "default": 0}],
        "steps": [
            {
                "id": "ping",
                "request": {"method": "GET", "url": "{{ env.base_url }}/ping?n={{ inputs.n }}"},
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


class Target:
    """A loopback server that stamps when each request arrives."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.arrived = threading.Condition()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with target.arrived:
                    target.arrivals.append(time.perf_counter())
                    target.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"the target saw {len(self.arrivals)} of {count} requests")
                self.arrived.wait(left)
            return self.arrivals[count - 1]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with bench_database():
        _bench(args)


def _bench(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.runners.services import batch_dispatch, run_dispatch
    from reqflo.runs.models import TERMINAL_STATUSES, Run, Trigger
    from tests.runners.workers import workers_on

    target = Target()
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    journey = journey_create(workspace=workspace, author=owner, checked=check_document(ONE_STEP))
    environment = environment_create(
        workspace=workspace, name="loopback", base_url=target.url, values={}
    )
    region = f"b{uuid.uuid4().hex[:10]}"
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = region
    config.concurrency_limit = 50
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    version = journey.head
    assert version is not None

    def dispatch(n: int) -> Run:
        return run_dispatch(
            workspace=workspace,
            version=version,
            environment=environment,
            trigger=Trigger.API,
            inputs={"n": n},
        ).run

    def wait_finished(runs: Any, timeout: float = 600, poll: float = 0.05) -> None:
        """Wait until every run of the queryset ``runs`` has ended.

        The batch wait polls by batch id every 0.2 s, not by a list of 1,000 ids every 50 ms: the
        bench's own queries would otherwise take PostgreSQL CPU from the workers it measures.
        """
        deadline = time.monotonic() + timeout
        while runs.exclude(status__in=TERMINAL_STATUSES).exists():
            if time.monotonic() > deadline:
                raise SystemExit("runs did not finish in time")
            time.sleep(poll)

    with tempfile.TemporaryDirectory() as logs, workers_on(region, Path(logs), rabbitmq=True) as w:
        w.start()
        warm_up = dispatch(-1)  # the worker is up and warm
        wait_finished(Run.objects.filter(pk=warm_up.pk), timeout=120)
        latencies = []
        for n in range(args.runs):
            seen = len(target.arrivals)
            started = time.perf_counter()
            run = dispatch(n)
            arrived = target.wait_for(seen + 1)
            latencies.append((arrived - started) * 1000)
            wait_finished(Run.objects.filter(pk=run.pk))
            time.sleep(0.2)  # idle again before the next one
        print(f"dispatch → first request, {args.runs} runs, one warm idle worker (RabbitMQ):")
        print(
            f"  median {statistics.median(latencies):.1f} ms, p95 {_p95(latencies):.1f} ms, "
            f"min {min(latencies):.1f} ms"
        )

        started = time.perf_counter()
        fan_out = batch_dispatch(
            workspace=workspace,
            version=version,
            environment=environment,
            rows=[{"n": n} for n in range(args.rows)],
            trigger=Trigger.API,
        ).batch
        created = time.perf_counter() - started
        print(f"fan-out of {args.rows} rows (Run check of each, children created): {created:.2f} s")
        Run.objects.filter(batch=fan_out, status="queued").update(status="cancelled")
        w.stop_all()
        w.started.clear()

        rates = []
        for processes in (1, 2):
            for _ in range(processes):
                w.start()
            wait_finished(Run.objects.filter(pk=dispatch(-2).pk), timeout=120)  # every process up
            time.sleep(2)
            started = time.perf_counter()
            batch = batch_dispatch(
                workspace=workspace,
                version=version,
                environment=environment,
                rows=[{"n": n} for n in range(args.batch)],
                trigger=Trigger.API,
            ).batch
            wait_finished(Run.objects.filter(batch=batch), poll=0.2)
            elapsed = time.perf_counter() - started
            rates.append(args.batch / elapsed)
            print(
                f"batch of {args.batch} one-step runs, {processes} worker process(es): "
                f"{elapsed:.1f} s, {rates[-1]:.1f} runs/s"
            )
            w.stop_all()
            w.started.clear()
        print(f"speed-up with the second worker process: {rates[1] / rates[0]:.2f}x")


if __name__ == "__main__":
    main()
