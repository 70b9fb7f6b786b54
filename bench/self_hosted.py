"""Benchmark self-hosted runners: claim latency, heartbeat throughput, runs per second.

Against a throwaway ``test_<name>`` PostgreSQL database, the app under gunicorn on loopback
(2 workers x 16 threads, the default 30 s lease and 5 s heartbeat) and real
``reqflo runner start`` processes:

1. dispatch → first request at the target for an idle runner (long-polling its claim), a
   one-step journey, ``--runs`` times one at a time;
2. the server's heartbeat throughput: ``--sim-runners`` registered runners each holding
   ``--leases`` claimed runs, their heartbeats (one call renewing all of a runner's leases) sent
   back to back by ``--clients`` concurrent HTTP clients for ``--seconds`` s; every answer must
   say "renewed" for every lease;
3. ``--batch`` one-step runs through 4 runner processes (``--capacity`` each), in runs per
   second from dispatch to the last one finished, and the same batch on the Cloud Runner with
   4 Celery worker processes (concurrency 1 each) on RabbitMQ.

Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.self_hosted [--runs 30] [--batch 1000] [--capacity 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import bench_database
from bench.dispatch import ONE_STEP, Target, _p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sim-runners", type=int, default=100)
    parser.add_argument("--leases", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=1)
    parser.add_argument("--skip-cloud", action="store_true")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    print(f"load average at start: {os.getloadavg()}")
    with bench_database():
        _bench(args)
    print(f"load average at end: {os.getloadavg()}")


def _bench(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.runners.selfhosted import runner_register
    from reqflo.runners.services import batch_dispatch, run_dispatch
    from reqflo.runs.models import TERMINAL_STATUSES, Run, Trigger
    from tests.runners.self_hosted import Runners, self_hosted_app

    target = Target()
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    journey = journey_create(workspace=workspace, author=owner, checked=check_document(ONE_STEP))
    environment = environment_create(
        workspace=workspace, name="loopback", base_url=target.url, values={}
    )
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = f"b{uuid.uuid4().hex[:10]}"
    config.concurrency_limit = 50
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    version = journey.head
    assert version is not None

    def dispatch(n: int, runner: str = "self_hosted", labels: list[str] | None = None) -> Run:
        return run_dispatch(
            workspace=workspace,
            version=version,
            environment=environment,
            trigger=Trigger.API,
            inputs={"n": n},
            runner=runner,
            runner_labels=labels,
        ).run

    def batch(rows: int, runner: str, labels: list[str] | None = None) -> Any:
        return batch_dispatch(
            workspace=workspace,
            version=version,
            environment=environment,
            rows=[{"n": n} for n in range(rows)],
            trigger=Trigger.API,
            runner=runner,
            runner_labels=labels,
        ).batch

    def wait_finished(runs: Any, timeout: float = 1200, poll: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while runs.exclude(status__in=TERMINAL_STATUSES).exists():
            if time.monotonic() > deadline:
                raise SystemExit("runs did not finish in time")
            time.sleep(poll)

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        app = self_hosted_app(base / "gunicorn.log", lease_seconds=30, heartbeat_seconds=5)
        app.start()
        procs = Runners(app=app, base=base / "runners")
        try:
            # 1. claim → first request, one idle runner long-polling.
            key = runner_register(workspace=workspace, by=owner, name="idle", labels=["idle"]).key
            procs.start(key, "--capacity", "1", env={"REQFLO_RUNNER_POLL_SECONDS": "20"})
            warm = dispatch(-1, labels=["idle"])
            wait_finished(Run.objects.filter(pk=warm.pk), timeout=60)
            latencies = []
            for n in range(args.runs):
                seen = len(target.arrivals)
                started = time.perf_counter()
                run = dispatch(n, labels=["idle"])
                arrived = target.wait_for(seen + 1)
                latencies.append((arrived - started) * 1000)
                wait_finished(Run.objects.filter(pk=run.pk))
                time.sleep(0.3)  # idle again, back in its long-poll
            print(f"dispatch → first request, {args.runs} runs, one idle self-hosted runner:")
            print(
                f"  median {statistics.median(latencies):.1f} ms, p95 {_p95(latencies):.1f} ms, "
                f"min {min(latencies):.1f} ms   (load {os.getloadavg()[0]:.1f})"
            )
            procs.stop_all()

            # 2. heartbeat throughput.
            _heartbeats(args, app.url, workspace, owner, batch)

            # 3. 1,000 short runs through 4 runner processes.
            for number in range(4):
                key = runner_register(
                    workspace=workspace, by=owner, name=f"worker-{number}", labels=["fleet"]
                ).key
                procs.start(
                    key,
                    "--capacity",
                    str(args.capacity),
                    env={"REQFLO_RUNNER_POLL_SECONDS": "20"},
                )
            warm = [dispatch(-2, labels=["fleet"]) for _ in range(8)]
            wait_finished(Run.objects.filter(pk__in=[r.pk for r in warm]), timeout=120)
            time.sleep(2)
            started = time.perf_counter()
            made = batch(args.batch, "self_hosted", ["fleet"])
            wait_finished(Run.objects.filter(batch=made), poll=0.5)
            elapsed = time.perf_counter() - started
            failed = Run.objects.filter(batch=made).exclude(status="passed").count()
            print(
                f"{args.batch} one-step runs, 4 runner processes x capacity {args.capacity}: "
                f"{elapsed:.1f} s, {args.batch / elapsed:.1f} runs/s, {failed} not passed   "
                f"(load {os.getloadavg()[0]:.1f})"
            )
        finally:
            procs.stop_all()
            app.stop()

        if not args.skip_cloud:
            _cloud(args, base, config.region, batch, dispatch, wait_finished)


def _cloud(
    args: argparse.Namespace, base: Path, region: str, batch: Any, dispatch: Any, wait_finished: Any
) -> None:
    from reqflo.runs.models import Run
    from tests.runners.workers import workers_on

    with workers_on(region, base, rabbitmq=True) as w:
        for _ in range(4):
            w.start()
        warm = [dispatch(-3, runner="cloud") for _ in range(8)]
        wait_finished(Run.objects.filter(pk__in=[r.pk for r in warm]), timeout=120)
        time.sleep(2)
        started = time.perf_counter()
        made = batch(args.batch, "cloud")
        wait_finished(Run.objects.filter(batch=made), poll=0.5)
        elapsed = time.perf_counter() - started
        print(
            f"{args.batch} one-step runs, Cloud Runner, 4 Celery worker processes x 1: "
            f"{elapsed:.1f} s, {args.batch / elapsed:.1f} runs/s   "
            f"(load {os.getloadavg()[0]:.1f})"
        )


def _heartbeats(args: argparse.Namespace, url: str, workspace: Any, owner: Any, batch: Any) -> None:
    """Register simulated runners, claim their runs over HTTP, then time their heartbeats."""
    from reqflo.runners.selfhosted import runner_register

    sims: list[tuple[dict[str, str], dict[str, Any]]] = []
    batch(args.sim_runners * args.leases, "self_hosted", ["sim"])
    claiming = threading.Event()
    claiming.set()

    def keep_alive() -> None:
        # Runners heartbeat while the others claim (else a lease of a runner claimed early
        # expires and a later runner takes its runs over, as it should).
        with httpx.Client(base_url=url + "/api/v1/runner", timeout=60) as client:
            while claiming.is_set():
                for headers, body in list(sims):
                    client.post("/heartbeat", json=body, headers=headers)
                time.sleep(1)

    keeper = threading.Thread(target=keep_alive, daemon=True)
    keeper.start()
    with httpx.Client(base_url=url + "/api/v1/runner", timeout=60) as client:
        for number in range(args.sim_runners):
            key = runner_register(
                workspace=workspace,
                by=owner,
                name=f"sim-{number}",
                labels=["sim"],
                capacity=args.leases,
            ).key
            boot = uuid.uuid4().hex
            headers = {"Authorization": f"Bearer {key}"}
            leases = []
            for _ in range(args.leases):
                job = client.post(
                    "/claim", json={"boot_id": boot, "wait_seconds": 0}, headers=headers
                ).json()["job"]
                leases.append(
                    {"run_id": job["run_id"], "token": job["lease"]["token"], "attempt": 1}
                )
            sims.append((headers, {"boot_id": boot, "leases": leases}))
    claiming.clear()
    keeper.join()
    print(f"{len(sims)} simulated runners hold {args.leases} runs each")
    count = 0
    bad = 0
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def beat(offset: int) -> None:
        nonlocal count, bad
        with httpx.Client(base_url=url + "/api/v1/runner", timeout=60) as client:
            index = offset
            while time.monotonic() < stop:
                headers, body = sims[index % len(sims)]
                answer = client.post("/heartbeat", json=body, headers=headers).json()
                renewed = all(a["state"] == "renewed" for a in answer["leases"])
                with lock:
                    count += 1
                    bad += not renewed
                index += args.clients

    started = time.perf_counter()
    threads = [threading.Thread(target=beat, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(
        f"heartbeats: {count} in {elapsed:.1f} s = {count / elapsed:.0f}/s "
        f"({count * args.leases / elapsed:.0f} leases renewed/s), {args.clients} clients, "
        f"{bad} answers with a lease not renewed   (load {os.getloadavg()[0]:.1f})"
    )
    print(
        f"  a fleet of {args.sim_runners} runners beating every 5 s needs "
        f"{args.sim_runners / 5:.0f}/s"
    )


if __name__ == "__main__":
    main()
