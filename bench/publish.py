"""Benchmark CI runs: what ``--publish`` adds to ``reqflo run``, and the server's publish rate.

Against a throwaway ``test_<name>`` PostgreSQL database, gunicorn as the Procfile starts it
(1 process, 8 threads) on a port of 41300-41399 and a loopback target:

1. ``reqflo run bench.yaml --env loopback --publish`` (as a GitHub Actions job: a new
   ``GITHUB_RUN_ID`` each time, so each publishes a new run) vs the same without ``--publish``,
   whole processes, alternated, ``--runs`` times each, for a 3-step and a 20-step journey;
2. ``POST /api/v1/ci/runs`` from ``--clients`` threads for ``--seconds`` seconds with bodies
   built beforehand by the CLI's own code (3 steps, a new CI job each): runs stored per second
   and the latency median and 95th percentile; then the same bundle again (a retried
   request, answered ``replayed``).

Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.publish [--runs 10] [--clients 4] [--seconds 10]
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
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bench.common import REPO, REQFLO
from bench.dispatch import Target


def _journey(steps: int) -> dict[str, Any]:
    return {
        "journey": {
            "name": f"Bench {steps}",
            "steps": [
                {
                    "id": f"s{n}",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/s" + str(n)},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
                for n in range(1, steps + 1)
            ],
        }
    }


def _port() -> int:
    for port in range(41300, 41400):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 41300-41399")


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
    from reqflo.runs.models import Run
    from tests.api.publishing import GITHUB_JOB, published_body
    from tests.runners.workers import BIN, workers_on

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    target = Target()
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    owner = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    token = api_token_create(user=owner, workspace=workspace, name="bench").key

    with (
        tempfile.TemporaryDirectory() as folder,
        workers_on(f"b{uuid.uuid4().hex[:10]}", Path(folder), rabbitmq=False) as workers,
    ):
        work = Path(folder)
        for steps in (3, 20):
            (work / f"bench{steps}.yaml").write_text(yaml.safe_dump(_journey(steps)))
        (work / "reqflo.yaml").write_text(
            yaml.safe_dump({"environments": {"loopback": {"base_url": target.url}}})
        )
        port = _port()
        web_env = {
            **workers.env,
            "ALLOWED_HOSTS": "127.0.0.1",
            "REQFLO_API_RATE_PER_MINUTE": "1000000",
        }
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "reqflo.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
             "1", "--threads", "8", "--no-control-socket"],
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
            base = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("REQFLO_", "GITHUB_", "CI_", "GITLAB_")) and k != "CI"
            }
            base.update(
                REQFLO_URL=url,
                REQFLO_TOKEN=token,
                GITHUB_ACTIONS="true",
                GITHUB_REPOSITORY="acme/bench",
                GITHUB_JOB="bench",
            )
            for steps in (3, 20):
                local_argv = [REQFLO, "run", f"bench{steps}.yaml", "--env", "loopback"]
                publish_argv = [*local_argv, "--publish"]
                _timed(publish_argv, {**base, "GITHUB_RUN_ID": "warm"}, work)
                published, local = [], []
                for n in range(args.runs):
                    env = {**base, "GITHUB_RUN_ID": f"{steps}-{n}"}
                    published.append(_timed(publish_argv, env, work))
                    local.append(_timed(local_argv, env, work))
                p, lo = statistics.median(published), statistics.median(local)
                print(
                    f"reqflo run ({steps} steps), {args.runs} runs each, whole processes, "
                    f"medians: --publish {p:.0f} ms, local {lo:.0f} ms, overhead {p - lo:.0f} ms"
                )
            stored_before = Run.objects.count()

            # More bodies than the clients can send in the time: each a new CI job.
            bodies = [
                published_body(
                    _journey(3), target.url, job=replace(GITHUB_JOB, base_key=f"job-{n}")
                )
                for n in range(400)
            ]
            latencies: list[float] = []
            lock = threading.Lock()
            stop = time.monotonic() + args.seconds
            nxt = iter(range(len(bodies)))

            def post(_: int) -> None:
                with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                    while time.monotonic() < stop:
                        with lock:
                            index = next(nxt, None)
                        if index is None:
                            return
                        body, key = bodies[index]
                        started = time.perf_counter()
                        response = client.post(
                            f"{url}/api/v1/ci/runs",
                            json=body,
                            headers={"Idempotency-Key": key},
                            timeout=60,
                        )
                        elapsed = (time.perf_counter() - started) * 1000
                        assert response.status_code == 201, response.text
                        with lock:
                            latencies.append(elapsed)

            began = time.monotonic()
            threads = [threading.Thread(target=post, args=(n,)) for n in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            took = time.monotonic() - began
            stored = Run.objects.count() - stored_before
            latencies.sort()
            print(
                f"POST /api/v1/ci/runs (3-step runs, a new CI job each), {args.clients} clients: "
                f"{stored} runs in {took:.1f} s = {stored / took:.1f} runs/s; latency median "
                f"{statistics.median(latencies):.0f} ms, p95 "
                f"{latencies[int(len(latencies) * 0.95) - 1]:.0f} ms"
            )
            replays = []
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                for body, key in bodies[: min(20, len(latencies))]:
                    started = time.perf_counter()
                    response = client.post(
                        f"{url}/api/v1/ci/runs", json=body, headers={"Idempotency-Key": key}
                    )
                    replays.append((time.perf_counter() - started) * 1000)
                    assert response.json()["outcome"] == "replayed", response.text
            print(f"the same bundle again (replayed): median {statistics.median(replays):.0f} ms")
        finally:
            web.terminate()
            web.wait(timeout=20)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
