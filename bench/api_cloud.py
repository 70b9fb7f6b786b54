"""Benchmark the CLI against a live server: cloud vs local wall time, status polling, start-up.

Against a throwaway ``test_<name>`` PostgreSQL database, gunicorn as the Procfile starts it
(1 process, 8 threads), one Celery worker on RabbitMQ and a loopback target:

1. ``reqflo run bench --env loopback --cloud`` vs ``reqflo run bench.yaml --env loopback`` (the
   same 3-step journey run locally), whole processes, alternated, ``--runs`` times each;
   with the progress requests each cloud run made (gunicorn's access log);
2. run status polling: ``GET /api/v1/runs/{id}`` of a finished run from ``--clients`` threads
   for ``--seconds`` seconds, in requests per second (one token, throttle raised);
3. the database reads of one idle long-poll (``/progress?wait=5`` of a queued run, no worker),
   per second;
4. ``reqflo --help`` start-up, ``--runs`` times.

Run from the repository root (RabbitMQ on 127.0.0.1:5672):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.api_cloud [--runs 10] [--clients 4] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from bench.common import REPO, REQFLO
from bench.dispatch import Target

THREE_STEPS: dict[str, Any] = {
    "journey": {
        "name": "Bench",
        "steps": [
            {
                "id": f"s{n}",
                "request": {"method": "GET", "url": "{{ env.base_url }}/s" + str(n)},
                "assertions": [{"type": "status_code", "expected": 200}],
            }
            for n in (1, 2, 3)
        ],
    }
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
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


def _bench(args: argparse.Namespace) -> None:
    import httpx
    from django.contrib.auth.models import User

    from reqflo.api.services import api_token_create
    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys.documents import check_document
    from reqflo.journeys.services import environment_create, journey_create
    from reqflo.runners.config import runner_config_for
    from reqflo.runs.models import Run
    from tests.runners.workers import BIN, workers_on

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    target = Target()
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    journey_create(workspace=workspace, author=owner, checked=check_document(THREE_STEPS))
    environment_create(workspace=workspace, name="loopback", base_url=target.url, values={})
    region = f"b{uuid.uuid4().hex[:10]}"
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = region
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    token = api_token_create(user=owner, workspace=workspace, name="bench").key

    with (
        tempfile.TemporaryDirectory() as folder,
        workers_on(region, Path(folder), rabbitmq=True) as workers,
    ):
        work = Path(folder)
        (work / "bench.yaml").write_text(yaml.safe_dump(THREE_STEPS))
        (work / "reqflo.yaml").write_text(
            yaml.safe_dump({"environments": {"loopback": {"base_url": target.url}}})
        )
        port = _free_port()
        access = work / "access.log"
        web_env = {
            **workers.env,
            "ALLOWED_HOSTS": "127.0.0.1",
            "REQFLO_API_RATE_PER_MINUTE": "1000000",
        }
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "reqflo.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
             "1", "--threads", "8", "--no-control-socket", "--access-logfile", str(access)],
            cwd=REPO, env=web_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    httpx.get(f"{url}/api/v1/openapi.json", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            workers.start()
            cli_env = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_")}
            cli_env.update(REQFLO_URL=url, REQFLO_TOKEN=token)
            cloud_argv = [REQFLO, "run", "bench", "--env", "loopback", "--cloud"]
            local_argv = [REQFLO, "run", "bench.yaml", "--env", "loopback"]
            _timed(cloud_argv, cli_env, work)  # warm: worker up, artifact compiled
            cloud, local, polls = [], [], []
            for _ in range(args.runs):
                before = _progress_requests(access)
                cloud.append(_timed(cloud_argv, cli_env, work))
                polls.append(_progress_requests(access) - before)
                local.append(_timed(local_argv, cli_env, work))
            c, lo = statistics.median(cloud), statistics.median(local)
            pairs = statistics.median(a - b for a, b in zip(cloud, local, strict=True))
            print(f"reqflo run (3 steps), {args.runs} runs each, whole processes, medians:")
            print(f"  --cloud {c:.0f} ms, local {lo:.0f} ms, overhead {pairs:.0f} ms (pairs)")
            print(f"  progress requests per cloud run: median {statistics.median(polls):g}")

            run_id = Run.objects.order_by("-created_at").values_list("pk", flat=True)[0]
            count = [0] * args.clients
            stop = time.monotonic() + args.seconds

            def poll(slot: int) -> None:
                with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                    while time.monotonic() < stop:
                        response = client.get(f"{url}/api/v1/runs/{run_id}")
                        assert response.status_code == 200, response.text
                        count[slot] += 1

            threads = [threading.Thread(target=poll, args=(n,)) for n in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(
                f"GET /api/v1/runs/ID (finished 3-step run), {args.clients} clients, "
                f"{args.seconds:g} s: {sum(count) / args.seconds:.0f} requests/s"
            )
            workers.stop_all()
            print(f"idle long-poll: {_idle_reads(token):.1f} database reads per second")
        finally:
            web.terminate()
            web.wait(timeout=20)

    starts = [_timed([REQFLO, "--help"], dict(os.environ), REPO) for _ in range(args.runs)]
    print(f"reqflo --help: median {statistics.median(starts):.0f} ms, min {min(starts):.0f} ms")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def _progress_requests(access: Path) -> int:
    if not access.exists():
        return 0
    return sum("/progress?" in line for line in access.read_text().splitlines())


def _idle_reads(token: str) -> float:
    """Dispatch a run no worker takes, long-poll it 5 s in process; return reads per second."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Authorization": f"Bearer {token}"})
    body = {"journey": "bench", "environment": "loopback"}
    run = client.post("/api/v1/runs", body, content_type="application/json").json()
    with CaptureQueriesContext(connection) as queries:
        started = time.monotonic()
        client.get(f"/api/v1/runs/{run['id']}/progress", {"seen_status": "queued", "wait": 5})
        elapsed = time.monotonic() - started
    reads = sum('FROM "runs_run"' in q["sql"] for q in queries.captured_queries)
    return reads / elapsed


if __name__ == "__main__":
    main()
