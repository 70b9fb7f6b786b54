"""Benchmark the Cloud Runner's durable overhead: a 10-step cloud run vs the same journey by CLI.

Against a throwaway ``test_<name>`` PostgreSQL database, a queue of its own on RabbitMQ, one real
``celery worker`` process (concurrency 1, warm) and a fast loopback target, alternating within
one run so every contender sees the same noise (``--runs`` rounds):

1. ``reqflo run journey.yaml --env bench``: the whole CLI process (start-up included);
2. the engine's loop in this process (``run_artifact``): the CLI without its start-up;
3. a cloud run, dispatch → finished as this process sees it (polling the row every 5 ms), and
   the worker's own part (``finished_at - started_at``, the database clock);
4. checkpoint cost: one ``checkpoint_commit`` per step of the same journey in this process, as
   the worker's after-step hook calls it (evidence ``to_dict``, ``RunState.snapshot()``,
   encryption, the fenced transaction), ``--runs`` runs of 10 steps: median and p95.

The target (issue 18): the cloud run within 1.5x + 150 ms of the CLI. Run from the repository
root (RabbitMQ on 127.0.0.1:5672):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.durable_overhead [--runs 20] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from bench.common import REPO, REQFLO, write_config
from bench.dispatch import Target, _p95


def journey(steps: int) -> dict[str, Any]:
    return {
        "journey": {
            "name": "Ten steps",
            "steps": [
                {
                    "id": f"s{index + 1}",
                    "request": {"method": "GET", "url": f"{{{{ env.base_url }}}}/ping?s={index}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
                for index in range(steps)
            ],
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL URL (the bench creates test_<name>)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        _bench(args)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _ms(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):7.1f} ms, p95 {_p95(samples):7.1f} ms, "
        f"min {min(samples):7.1f} ms"
    )


def _bench(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.engine import (
        Artifact,
        compile_definition,
        definition_from_data,
        numbers,
        run_artifact,
        run_steps,
    )
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.runners.execution import run_state_for
    from reqflo.runners.leases import checkpoint_commit, lease_take, run_finish
    from reqflo.runners.services import run_dispatch
    from reqflo.runs.models import TERMINAL_STATUSES, Run, RunStatus, Trigger
    from reqflo.secrets.resolution import ResolvedSecrets
    from tests.runners.workers import workers_on

    document = journey(args.steps)
    target = Target()
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    version = journey_create(
        workspace=workspace, author=owner, checked=check_document(document)
    ).head
    assert version is not None
    environment = environment_create(
        workspace=workspace, name="loopback", base_url=target.url, values={}
    )
    region = f"b{uuid.uuid4().hex[:10]}"
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = region
    config.concurrency_limit = 50
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    artifact = compile_definition(definition_from_data(document))

    def dispatch() -> Run:
        return run_dispatch(
            workspace=workspace, version=version, environment=environment, trigger=Trigger.API
        ).run

    def wait_finished(run: Run, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        query = Run.objects.filter(pk=run.pk, status__in=TERMINAL_STATUSES)
        while not query.exists():
            if time.monotonic() > deadline:
                raise SystemExit("the cloud run did not finish in time")
            time.sleep(0.005)
        return time.perf_counter()

    def checkpoint_costs() -> list[float]:
        run = dispatch()  # no worker consumes this queue while it is measured
        lease = lease_take(run_id=run.pk)
        assert lease is not None
        run.refresh_from_db()
        state = run_state_for(
            run, Artifact.from_json(run.artifact.plan), ResolvedSecrets({}, frozenset()), config
        )
        costs: list[float] = []

        def after_step(result: Any, amended: list[Any]) -> bool:
            started = time.perf_counter()
            checkpoint_commit(
                lease,
                index=result.index,
                step_id=result.step_id,
                evidence=numbers.plain(result.to_dict()),
                snapshot=state.snapshot(),
                amended={a.index: numbers.plain(a.to_dict()) for a in amended},
            )
            costs.append((time.perf_counter() - started) * 1000)
            return True

        try:
            run_steps(state, after_step=after_step)
        finally:
            state.client.close()
        run_finish(lease, status=RunStatus.PASSED)
        return costs

    cli_process: list[float] = []
    engine_loop: list[float] = []
    cloud_seen: list[float] = []
    cloud_worker: list[float] = []
    checkpoints: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        write_config(work, target.url)
        (work / "journey.yaml").write_text(yaml.safe_dump(document))
        with workers_on(region, work, rabbitmq=True) as workers:
            workers.start()
            wait_finished(dispatch())  # the worker is up and warm
            for _ in range(args.runs):
                started = time.perf_counter()
                done = subprocess.run(
                    [REQFLO, "run", "journey.yaml", "--env", "bench"],
                    cwd=work,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                cli_process.append((time.perf_counter() - started) * 1000)
                if done.returncode != 0:
                    raise SystemExit(f"reqflo run failed:\n{done.stdout}\n{done.stderr}")

                started = time.perf_counter()
                result = run_artifact(
                    artifact, inputs={}, environment={"base_url": target.url}, secrets={}
                )
                engine_loop.append((time.perf_counter() - started) * 1000)
                assert result.status == "passed"

                started = time.perf_counter()
                run = dispatch()
                cloud_seen.append((wait_finished(run) - started) * 1000)
                run.refresh_from_db()
                assert run.status == RunStatus.PASSED, run.error_message
                assert run.started_at is not None
                assert run.finished_at is not None
                cloud_worker.append((run.finished_at - run.started_at).total_seconds() * 1000)
                time.sleep(0.2)  # idle again before the next round
            workers.stop_all()
        for _ in range(args.runs):
            checkpoints += checkpoint_costs()

    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    cli = statistics.median(cli_process)
    cloud = statistics.median(cloud_seen)
    print(f"{args.steps}-step journey, fast loopback target, {args.runs} rounds, load {load}:")
    print(f"  reqflo run (whole process)        {_ms(cli_process)}")
    print(f"  engine loop in process            {_ms(engine_loop)}")
    print(f"  cloud run, dispatch -> finished   {_ms(cloud_seen)}")
    print(f"  cloud run, worker started->ended  {_ms(cloud_worker)}")
    print(f"  checkpoint_commit per step        {_ms(checkpoints)} ({len(checkpoints)} steps)")
    print(
        f"cloud / CLI process: {cloud / cli:.2f}x; limit 1.5x + 150 ms = {1.5 * cli + 150:.0f} ms "
        f"vs {cloud:.0f} ms: {'within' if cloud <= 1.5 * cli + 150 else 'OVER'}"
    )
    overhead = statistics.median(cloud_worker) - statistics.median(engine_loop)
    print(
        "durable overhead per step (worker part - engine loop) / steps: "
        f"{overhead / args.steps:.1f} ms"
    )
    print(f"(repository {REPO.name}, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
