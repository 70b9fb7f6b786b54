"""Benchmark schedules: 1,000 schedules every 60 s with a real beat and worker on RabbitMQ.

Measures, against a throwaway ``test_<name>`` PostgreSQL database and queues of its own:

- dispatch lag: how long after its due time each tick's run was dispatched (median, p95, max),
  over ``--minutes`` minutes of every schedule being due once a minute;
- the beat process's CPU (it only sends the tick), and the worker's time in tick tasks (from its
  log: Celery's "succeeded in" line for each tick) against the worker's whole CPU.

Due times are spread over the first minute, as schedules created over time are. Runs execute
on the same worker (a one-step journey against a loopback target).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.schedules [--schedules 1000] [--minutes 3] [--tick 10]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.common import bench_database
from bench.dispatch import ONE_STEP, Target


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its reaped children, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / 100.0


def _group_cpu(pid: int) -> float:
    found = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True, check=False)
    return sum(_cpu_seconds(int(p)) for p in found.stdout.split() if Path(f"/proc/{p}").exists())


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--tick", type=int, default=10, help="REQFLO_SCHEDULES_TICK_SECONDS")
    args = parser.parse_args()
    with bench_database():
        _bench(args)


def _bench(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone
    from kombu import Connection

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.schedules.models import Schedule, Tick
    from tests.runners.workers import BIN, RABBITMQ, ROOT, workers_on

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
    config.concurrency_limit = 200
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()

    start = timezone.now() + timedelta(seconds=20)  # workers and beat are up by then
    spread = 60.0 / args.schedules
    Schedule.objects.bulk_create(
        Schedule(
            workspace=workspace,
            name=f"monitor {n}",
            journey=journey,
            environment=environment,
            interval_seconds=60,
            next_due_at=start + timedelta(seconds=n * spread),
            created_by=owner,
        )
        for n in range(args.schedules)
    )
    queue = f"bsched{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as logs, workers_on(region, Path(logs), rabbitmq=True) as w:
        w.env.update(REQFLO_DEFAULT_QUEUE=queue, REQFLO_SCHEDULES_TICK_SECONDS=str(args.tick))
        w.queue = f"{queue},{queue}.{region}"
        worker = w.start(concurrency=2)
        beat = subprocess.Popen(
            [str(BIN / "celery"), "-A", "reqflo", "beat", "-s", f"{logs}/beat", "-l", "INFO"],
            cwd=ROOT,
            env=w.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        w.started.append(beat)
        try:
            time.sleep(max(0.0, (start - timezone.now()).total_seconds()))
            beat_cpu, worker_cpu = _cpu_seconds(beat.pid), _group_cpu(worker.pid)
            time.sleep(args.minutes * 60)
            beat_cpu = _cpu_seconds(beat.pid) - beat_cpu
            worker_cpu = _group_cpu(worker.pid) - worker_cpu
        finally:
            w.stop_all()
            with Connection(RABBITMQ) as rabbit:
                for name in (queue, f"{queue}.{region}"):
                    rabbit.default_channel.queue_delete(name)
        log = w.log_text()
    lags = [
        (tick.dispatched_at - tick.due_at).total_seconds()
        for tick in Tick.objects.filter(due_at__lt=start + timedelta(minutes=args.minutes))
    ]
    tick_seconds = [
        float(s)
        for s in re.findall(r"schedules\.tasks\.tick\[[^\]]+\] succeeded in ([\d.]+)s", log)
    ]
    expected = int(args.schedules * args.minutes)
    window = args.minutes * 60
    print(f"{args.schedules} schedules every 60 s, tick every {args.tick} s, {args.minutes} min:")
    print(f"  ticks dispatched: {len(lags)} (due in the window: about {expected})")
    print(
        f"  dispatch lag behind the due time: median {statistics.median(lags):.2f} s, "
        f"p95 {_p95(lags):.2f} s, max {max(lags):.2f} s"
    )
    print(
        f"  beat process CPU: {beat_cpu:.2f} s in {window:.0f} s ({100 * beat_cpu / window:.2f} %)"
    )
    print(
        f"  tick tasks: {len(tick_seconds)}, median {statistics.median(tick_seconds):.2f} s, "
        f"max {max(tick_seconds):.2f} s; worker CPU (ticks and runs): {worker_cpu:.1f} s"
    )


if __name__ == "__main__":
    main()
