"""The `reqflo` command end to end against a live server: gunicorn, RabbitMQ and a Celery worker.

Each command line of seed 000 (three) and seed 001 (one) runs verbatim, as a real process,
with ``REQFLO_URL`` and ``REQFLO_TOKEN`` set; exit codes, printed ids and reports are checked,
and the token appears in no output and no server or worker log.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from django.contrib.auth.models import User
from django.db import connection, transaction

from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.services import case_create, environment_create, journey_create
from reqflo.runners.config import runner_config_for
from reqflo.runs.models import Run, RunStatus
from tests.cli.conftest import REQFLO, run_subprocess
from tests.conftest import Loopback
from tests.live_app import LiveApp
from tests.runners.workers import ROOT, Workers, region, workers

__all__ = ["region", "workers"]  # fixtures

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEED_000 = [
    "reqflo run checkout-flow --env staging --case happy-path --cloud",
    "reqflo run checkout-flow \\\n  --env production \\\n  --case smoke-test \\\n  --cloud \\\n"
    "  --reporter junit \\\n  --output results/checkout-results.xml",
    "reqflo run checkout-flow \\\n  --env staging \\\n  --data test-cases.csv \\\n  --cloud \\\n"
    "  --reporter json \\\n  --output results/",
]
SEED_001 = 'reqflo run checkout-flow --env staging --case "Happy path" --cloud'
XSD = ROOT / "tests" / "data" / "junit-10.xsd"
GATE = threading.Event()


class Shop(BaseHTTPRequestHandler):
    """Answers every step: 200 with the SKU it was asked for, 500 for the SKU "broken".

    A request for the SKU "slow" waits until ``GATE`` is set (at most 60 s).
    """

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if "slow" in self.path:
            GATE.wait(60)
        status = 500 if "broken" in self.path else 200
        body = json.dumps({"path": self.path}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _document() -> dict[str, Any]:
    return {
        "journey": {
            "name": "Checkout flow",
            "tags": ["smoke"],
            "inputs": [{"name": "sku", "type": "string", "default": "A-1"}],
            "steps": [
                {
                    "id": "cart",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/cart/{{ inputs.sku }}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
                {
                    "id": "pay",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/pay/{{ inputs.sku }}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
            ],
        }
    }


@pytest.fixture
def server(workers: Workers, tmp_path: Path) -> Iterator[LiveApp]:
    """Serve the app with gunicorn on loopback, on the test database and the workers' broker."""
    env = {**workers.env, "ALLOWED_HOSTS": "127.0.0.1", "REQFLO_API_RATE_PER_MINUTE": "6000"}
    # Two workers of four threads: the throttling test below counts on them.
    options = ["--workers", "2", "--threads", "4", "--no-control-socket"]
    app = LiveApp(env=env, log=tmp_path / "gunicorn.log", options=options)
    app.start()
    try:
        yield app
    finally:
        app.kill(signal.SIGTERM)


@pytest.fixture
def token(workspace: Workspace, owner: User, editor: User, region: str, loopback: Loopback) -> str:
    shop = loopback(Shop)
    journey = journey_create(workspace=workspace, author=owner, checked=check_document(_document()))
    case_create(journey=journey, name="Happy path", values={})
    case_create(journey=journey, name="Smoke test", values={"sku": "S-9"})
    environment_create(workspace=workspace, name="staging", base_url=shop.url, values={})
    environment_create(workspace=workspace, name="production", base_url=shop.url, values={})
    config = runner_config_for(workspace_id=workspace.pk)
    config.region = region
    config.egress_allow_hosts = ["127.0.0.1"]
    config.save()
    return api_token_create(user=editor, workspace=workspace, name="ci").key


def _reqflo(command: str, *, url: str, token: str, cwd: Path) -> Any:
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "reqflo"
    return run_subprocess(*argv[1:], env={"REQFLO_URL": url, "REQFLO_TOKEN": token}, cwd=cwd)


def test_the_seed_command_lines_run_verbatim_on_the_cloud_runner(
    server: LiveApp, token: str, workers: Workers, tmp_path: Path
) -> None:
    workers.start(concurrency=2)
    work = tmp_path / "project"
    work.mkdir()
    (work / "test-cases.csv").write_text("case,sku\nfirst,A-1\nsecond,B-2\nthird,C-3\n")
    outputs = []

    first = _reqflo(SEED_000[0], url=server.url, token=token, cwd=work)
    outputs.append(first)
    assert first.code == 0, first.stderr
    run = Run.objects.get()
    assert f"Started run {run.pk}" in first.stderr
    assert run.status == RunStatus.PASSED
    assert run.case is not None
    assert run.case.name == "Happy path"
    assert run.trigger == "cli"

    junit = _reqflo(SEED_000[1], url=server.url, token=token, cwd=work)
    outputs.append(junit)
    assert junit.code == 0, junit.stderr
    report = work / "results" / "checkout-results.xml"
    xmlschema.XMLSchema(str(XSD)).validate(str(report))
    assert 'tests="2"' in report.read_text()
    assert Run.objects.get(case__name="Smoke test").inputs == {"sku": "S-9"}

    data = _reqflo(SEED_000[2], url=server.url, token=token, cwd=work)
    outputs.append(data)
    assert data.code == 0, data.stderr
    assert "Started batch" in data.stderr
    files = sorted((work / "results").glob("*.json"))
    assert len(files) == 3
    documents = [json.loads(f.read_text()) for f in files]
    assert [d["runs"][0]["inputs"]["sku"] for d in documents] == ["A-1", "B-2", "C-3"]
    assert all(d["summary"]["status"] == "passed" for d in documents)
    # Each row is named by its case column, as a local data run names it.
    assert [d["runs"][0]["label"] for d in documents] == ["first", "second", "third"]
    for name in ("first", "second", "third"):
        assert f"· {name}" in data.stdout
    assert "row 1" not in data.stdout

    (work / "mixed.csv").write_text("name,sku\nAlpha,A-1\n,B-2\n")
    rows = _reqflo(
        "reqflo run checkout-flow --env staging --data mixed.csv --cloud "
        "--reporter junit --output results/rows.xml",
        url=server.url,
        token=token,
        cwd=work,
    )
    outputs.append(rows)
    assert rows.code == 0, rows.stderr
    suites = re.findall(r'<testsuite name="([^"]+)"', (work / "results" / "rows.xml").read_text())
    assert suites == ["Checkout flow · Alpha (row 1)", "Checkout flow · row 2"]

    # A folder with its own reqflo.yaml (broken) and a local checkout-flow journey: a --cloud
    # slug names the server's journey and reads neither.
    (work / "reqflo.yaml").write_text("environments: [not, a, mapping\n")
    (work / "checkout-flow.yaml").write_text("journey:\n  name: Local copy\n  steps: []\n")
    again = _reqflo(SEED_001, url=server.url, token=token, cwd=work)
    outputs.append(again)
    assert again.code == 0, again.stderr
    assert "Checkout flow" in again.stdout
    assert "Local copy" not in again.stdout + again.stderr

    workers.stop_all()
    texts = [o.stdout + o.stderr for o in outputs]
    texts += [workers.log_text(), (tmp_path / "gunicorn.log").read_text()]
    assert not any(token in text for text in texts), "the token leaked"


def test_a_failing_run_exits_1_and_no_wait_prints_the_id(
    server: LiveApp, token: str, workers: Workers, tmp_path: Path
) -> None:
    workers.start()
    failing = _reqflo(
        "reqflo run checkout-flow --env staging --set sku=broken --cloud",
        url=server.url,
        token=token,
        cwd=tmp_path,
    )
    assert failing.code == 1, failing.stderr
    queued = _reqflo(
        "reqflo run checkout-flow --env staging --cloud --no-wait",
        url=server.url,
        token=token,
        cwd=tmp_path,
    )
    assert queued.code == 0
    run_id = queued.stdout.strip()
    assert Run.objects.filter(pk=run_id).exists()
    shown = _reqflo(
        f"reqflo runs show {failing_id(failing)}", url=server.url, token=token, cwd=tmp_path
    )
    assert shown.code == 1
    verified = _reqflo(
        f"reqflo runs verify {failing_id(failing)}", url=server.url, token=token, cwd=tmp_path
    )
    assert verified.code == 0, verified.stdout
    assert "verified (2 step results" in verified.stdout
    # A failed run recorded as passed afterwards, behind the triggers' back (as a database
    # superuser could): the chain still holds, the facts do not.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE runs_run SET status = 'passed' WHERE id = %s", [failing_id(failing)])
    tampered = _reqflo(
        f"reqflo runs verify {failing_id(failing)}", url=server.url, token=token, cwd=tmp_path
    )
    assert tampered.code == 1, tampered.stdout
    lines = tampered.stdout.splitlines()
    assert "NOT verified" in lines[0]
    assert "  the server: not verified" in lines
    assert "  this check of its evidence: not verified" in lines
    reason = "the run is recorded as passed, but step result 0 is failed"
    assert sum(reason in line for line in lines) == 2  # the server's and its own


def failing_id(result: Any) -> str:
    line = next(line for line in result.stderr.splitlines() if line.startswith("Started run "))
    return line.split()[2].rstrip(":")


def test_usage_and_server_errors_have_their_exit_codes(
    server: LiveApp, token: str, tmp_path: Path
) -> None:
    unknown_case = _reqflo(
        "reqflo run checkout-flow --env staging --case sad-path --cloud",
        url=server.url,
        token=token,
        cwd=tmp_path,
    )
    assert unknown_case.code == 2
    assert "'Happy path'" in unknown_case.stderr
    bad_token = _reqflo(
        "reqflo run checkout-flow --env staging --cloud",
        url=server.url,
        token="rqf_" + "x" * 43,
        cwd=tmp_path,
    )
    assert bad_token.code == 3
    assert "not known" in bad_token.stderr
    gone = _reqflo(
        "reqflo runs show 00000000-0000-0000-0000-000000000000",
        url="http://127.0.0.1:9",
        token=token,
        cwd=tmp_path,
    )
    assert gone.code == 3
    assert "cannot reach" in gone.stderr
    assert token not in gone.stderr + unknown_case.stderr
    assert Run.objects.count() == 0


def test_timeout_exits_4_while_the_run_stays_queued(
    server: LiveApp, token: str, tmp_path: Path
) -> None:
    # No worker: the run waits queued, and the command stops waiting after --timeout.
    result = _reqflo(
        "reqflo run checkout-flow --env staging --cloud --timeout 1",
        url=server.url,
        token=token,
        cwd=tmp_path,
    )
    assert result.code == 4, result.stderr
    run = Run.objects.get()
    assert run.status == RunStatus.QUEUED
    assert "--timeout 1 s passed; 1 of 1 run(s) did not finish" in result.stderr
    assert f"run {run.pk} is still queued (0 of 2 steps done): " in result.stderr
    assert f"{server.url}/runs/{run.pk}/" in result.stderr
    assert f"reqflo runs cancel {run.pk}" in result.stderr
    # No summary of runs that did not finish (it read "0 runs: 0 passed" before).
    assert "0 passed" not in result.stdout + result.stderr


def test_push_then_run_the_servers_version_locally(
    server: LiveApp, token: str, tmp_path: Path, loopback: Loopback
) -> None:
    shop = loopback(Shop)
    journey = tmp_path / "orders.yaml"
    journey.write_text(
        "journey:\n  name: Orders\n  steps:\n    - id: list\n      request:\n"
        "        method: GET\n        url: '{{ env.base_url }}/orders'\n"
        "      assertions:\n        - type: status_code\n          expected: 200\n"
    )
    (tmp_path / "reqflo.yaml").write_text(f"environments:\n  local:\n    base_url: {shop.url}\n")
    pushed = _reqflo(f"reqflo push {journey}", url=server.url, token=token, cwd=tmp_path)
    assert pushed.code == 0, pushed.stderr
    assert "created journey orders v1" in pushed.stdout
    ran = _reqflo("reqflo run orders --env local", url=server.url, token=token, cwd=tmp_path)
    assert ran.code == 0, ran.stderr
    assert "Running orders v1" in ran.stderr


def _wait_until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _start_cli(command: str, *, url: str, token: str, cwd: Path) -> subprocess.Popen[str]:
    argv = shlex.split(command)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_") and k != "CI"}
    environ.update(REQFLO_URL=url, REQFLO_TOKEN=token)
    return subprocess.Popen(
        [str(REQFLO), *argv[1:]],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_cli_rides_out_a_server_that_goes_away_mid_stream(
    server: LiveApp, token: str, workers: Workers, tmp_path: Path
) -> None:
    GATE.clear()
    workers.start()
    command = "reqflo run checkout-flow --env staging --set sku=slow --cloud"
    cli = _start_cli(command, url=server.url, token=token, cwd=tmp_path)
    try:
        _wait_until(lambda: Run.objects.filter(status=RunStatus.RUNNING).exists(), "the run")
        server.kill()  # the CLI is long-polling the run's progress right now
        time.sleep(1)
        server.start()  # back within the CLI's retries
        GATE.set()
        _, stderr = cli.communicate(timeout=120)
    finally:
        GATE.set()
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, stderr
    assert Run.objects.get().status == RunStatus.PASSED
    assert "Traceback" not in stderr

    GATE.clear()
    second = _start_cli(command, url=server.url, token=token, cwd=tmp_path)
    try:
        _wait_until(lambda: Run.objects.filter(status=RunStatus.RUNNING).exists(), "run 2")
        server.kill()  # and this time it stays away
        _, stderr = second.communicate(timeout=120)
    finally:
        GATE.set()
        if second.poll() is None:
            second.kill()
    assert second.returncode == 3
    assert "cannot reach the Reqflo server" in stderr
    assert token not in stderr


def test_login_stores_the_server_and_token_privately_and_cancel_is_repeatable(
    server: LiveApp, token: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": ""}
    login = run_subprocess("login", "--url", server.url, "--token", token, env=env, cwd=tmp_path)
    assert login.code == 0, login.stderr
    stored = home / ".config" / "reqflo" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text()) == {"url": server.url, "token": token}
    assert token not in login.stdout + login.stderr
    # No REQFLO_URL/REQFLO_TOKEN: the stored login is used.
    queued = run_subprocess(
        "run", "checkout-flow", "--env", "staging", "--cloud", "--no-wait", env=env, cwd=tmp_path
    )
    assert queued.code == 0, queued.stderr
    run_id = queued.stdout.strip()
    for _ in range(2):  # a retried cancel is not an error
        cancelled = run_subprocess("runs", "cancel", run_id, env=env, cwd=tmp_path)
        assert cancelled.code == 0, cancelled.stderr
        assert "cancelled" in cancelled.stdout
    assert Run.objects.get(pk=run_id).status == RunStatus.CANCELLED
    bad = run_subprocess("login", "--url", server.url, "--token", "rqf_nope", cwd=tmp_path)
    assert bad.code == 3
    assert "malformed" in bad.stderr


def test_a_tag_runs_every_tagged_journey_with_one_combined_report(
    server: LiveApp, token: str, workers: Workers, workspace: Workspace, owner: User, tmp_path: Path
) -> None:
    second = _document()
    second["journey"]["name"] = "Refund flow"
    journey_create(workspace=workspace, author=owner, checked=check_document(second))
    untagged = _document()
    untagged["journey"].update(name="Untagged", tags=[])
    journey_create(workspace=workspace, author=owner, checked=check_document(untagged))
    workers.start(concurrency=2)
    result = _reqflo(
        "reqflo run --tag smoke --env staging --cloud --reporter junit --output tagged.xml",
        url=server.url,
        token=token,
        cwd=tmp_path,
    )
    assert result.code == 0, result.stderr
    report = (tmp_path / "tagged.xml").read_text()
    xmlschema.XMLSchema(str(XSD)).validate(str(tmp_path / "tagged.xml"))
    assert report.count("<testsuite ") == 2
    assert "Checkout flow" in report
    assert "Refund flow" in report
    assert "Untagged" not in report
    assert Run.objects.count() == 2


def test_parallel_requests_pass_the_rate_limit_exactly_limit_times(
    workers: Workers, token: str, tmp_path: Path
) -> None:
    """48 requests at once from 16 threads, over gunicorn's 2 workers x 4 threads: 10 pass."""
    limit, total = 10, 48
    env = {**workers.env, "ALLOWED_HOSTS": "127.0.0.1", "REQFLO_API_RATE_PER_MINUTE": str(limit)}
    app = LiveApp(env=env, log=tmp_path / "limited.log")
    app.start()
    start = threading.Barrier(16)

    def call(index: int) -> httpx.Response:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            if index < 16:  # the first wave leaves together
                start.wait()
            return client.get(f"{app.url}/api/v1/journeys")

    try:
        if time.time() % 60 > 50:  # the count is per clock minute: start the burst inside one
            time.sleep(61 - time.time() % 60)
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(call, range(total)))
    finally:
        app.kill(signal.SIGTERM)
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200] * limit + [429] * (total - limit)
    for response in answers:
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            assert 1 <= int(response.headers["Retry-After"]) <= 60
