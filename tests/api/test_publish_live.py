"""``reqflo run FILE --publish`` as a real process against the app under gunicorn.

The CI job's variables are set as GitHub Actions and GitLab CI set them; the target is a
loopback server that echoes the secret header back, so the secret's real value is in what the
CLI received and must be in nothing the server stored or shows.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from reqflo.api.services import api_token_create, api_token_revoke
from reqflo.core.models import Workspace
from reqflo.journeys.models import JourneyVersion
from reqflo.runs.models import CiRunInfo, Run
from tests.api.test_cli_against_server import LiveApp
from tests.cli.conftest import REQFLO, Result, run_subprocess
from tests.conftest import Loopback
from tests.runners.workers import workers_on

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "s3cr3t-Real-Value-9731"
PORTS = range(41300, 41400)  # this branch's ports


class Echo(BaseHTTPRequestHandler):
    """Answer with the request's path and its X-Token header (the secret, echoed back)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        status = 500 if "broken" in self.path else 200
        body = json.dumps({"path": self.path, "token": self.headers.get("X-Token")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 41300-41399")


@pytest.fixture
def live(tmp_path: Path, region: str) -> Iterator[LiveApp]:
    with workers_on(region, tmp_path, rabbitmq=False) as controls:
        env = {**controls.env, "ALLOWED_HOSTS": "127.0.0.1", "REQFLO_API_RATE_PER_MINUTE": "6000"}
        app = LiveApp(env=env, log=tmp_path / "gunicorn.log", port=_port())
        app.start()
        try:
            yield app
        finally:
            app.kill(signal.SIGTERM)


@pytest.fixture
def region() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def project(tmp_path: Path, loopback: Loopback) -> Path:
    target = loopback(Echo).url
    folder = tmp_path / "repo"
    folder.mkdir()
    journey = {
        "journey": {
            "name": "Smoke",
            "slug": "smoke",
            "inputs": [{"name": "path", "default": "ok"}],
            "steps": [
                {
                    "id": "ping",
                    "request": {
                        "method": "GET",
                        "url": "{{ env.base_url }}/{{ inputs.path }}",
                        "headers": {"X-Token": "{{ secrets.api_key }}"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
                {
                    "id": "again",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/again"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
            ],
        }
    }
    (folder / "smoke.yaml").write_text(yaml.safe_dump(journey, sort_keys=False))
    config = {"environments": {"staging": {"base_url": target}}}
    (folder / "reqflo.yaml").write_text(yaml.safe_dump(config))
    return folder


@pytest.fixture
def token(workspace: Workspace, editor: User) -> str:
    return api_token_create(user=editor, workspace=workspace, name="ci").key


def github(run_id: str, attempt: str = "1", job: str = "smoke") -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_ATTEMPT": attempt,
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": job,
        "GITHUB_SHA": "a" * 40,
        "GITHUB_REF_NAME": "main",
    }


def gitlab(job_id: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI": "true",
        "CI_SERVER_URL": "https://gitlab.example",
        "CI_PROJECT_ID": "77",
        "CI_PROJECT_PATH": "acme/api",
        "CI_PIPELINE_ID": "5005",
        "CI_JOB_NAME": "journeys",
        "CI_JOB_ID": job_id,
        "CI_JOB_URL": f"https://gitlab.example/acme/api/-/jobs/{job_id}",
        "CI_COMMIT_SHA": "b" * 40,
        "CI_COMMIT_REF_NAME": "feature/x",
    }


def publish(
    project: Path, url: str, token: str, ci: dict[str, str], *extra: str, output: str = "r.json"
) -> Result:
    env = {
        "REQFLO_URL": url,
        "REQFLO_TOKEN": token,
        "REQFLO_SECRET_API_KEY": SECRET,
        **ci,
    }
    return run_subprocess(
        "run",
        "smoke.yaml",
        "--env",
        "staging",
        "--publish",
        "--output",
        output,
        *extra,
        env=_without_ci_of_the_host(env),
        cwd=project,
    )


def _without_ci_of_the_host(env: dict[str, str]) -> dict[str, str]:
    # run_subprocess keeps the host's environment; a real CI host's GITHUB_*/CI_* must not
    # decide which job these runs belong to. Empty values stand for "unset" in ci_job.
    blank = {k: "" for k in os.environ if k.startswith(("GITHUB_", "CI_", "GITLAB_"))}
    return {**blank, **env}


def test_publish_three_attempts_of_one_ci_job_make_one_run_in_history(
    live: LiveApp, token: str, project: Path, viewer: User
) -> None:
    outputs = [publish(project, live.url, token, github("9001", attempt=str(n))) for n in (1, 2, 3)]
    for result in outputs:
        assert result.code == 0, result.output
    assert "Published run" in outputs[0].stderr
    assert "already published run" in outputs[1].stderr
    run = Run.objects.get()
    assert (run.trigger, run.runner_kind, run.status) == ("ci", "ci", "passed")
    info = CiRunInfo.objects.get(run=run)
    assert (info.provider, info.repository, info.ref) == ("github", "acme/shop", "main")
    assert info.job_url == "https://github.com/acme/shop/actions/runs/9001"
    assert (info.pipeline_id, info.attempt) == ("9001", "1")
    assert [a["attempt"] for a in info.later_attempts] == ["2", "3"]
    assert (project / "r.json").is_file()
    # The report (of the last attempt) names the run id that attempt published under.
    report = json.loads((project / "r.json").read_text())
    assert report["runs"][0]["run_id"] == info.later_attempts[-1]["run_id"]

    # `reqflo runs verify` checks the published chain through the API.
    verified = run_subprocess(
        "runs",
        "verify",
        str(run.pk),
        env={"REQFLO_URL": live.url, "REQFLO_TOKEN": token},
    )
    assert verified.code == 0, verified.output
    assert "verified" in verified.stdout

    # Another CI run (or another job of it) is another run.
    other = publish(project, live.url, token, github("9002"))
    assert other.code == 0, other.output
    job = publish(project, live.url, token, github("9001", job="nightly"))
    assert job.code == 0, job.output
    assert Run.objects.count() == 3

    # GitLab: a retried job gets a new CI_JOB_ID and still lands on its run.
    for job_id in ("801", "802"):
        assert publish(project, live.url, token, gitlab(job_id)).code == 0
    gitlab_run = CiRunInfo.objects.get(provider="gitlab")
    assert (gitlab_run.repository, gitlab_run.ref) == ("acme/api", "feature/x")
    assert Run.objects.count() == 4

    client = Client()
    client.force_login(viewer)
    history = client.get(reverse("runs:list"), {"trigger": "ci", "repository": "acme/api"})
    assert history.content.decode().count('data-run="') == 1

    texts = [o.output for o in outputs] + [(Path(live.log)).read_text()]
    assert not any(token in text for text in texts), "the token leaked"


def test_the_secret_is_never_stored_or_shown(
    live: LiveApp, token: str, project: Path, viewer: User
) -> None:
    result = publish(project, live.url, token, github("7001"))
    assert result.code == 0, result.output
    run = Run.objects.get()
    # Every text column of every table of the database, searched for the real value.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s',
                [f"%{SECRET}%"],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    assert found == []
    client = Client()
    client.force_login(viewer)
    pages = [
        client.get(reverse("runs:detail", args=[run.pk])),
        client.get(reverse("runs:list")),
    ]
    for page in pages:
        assert SECRET not in page.content.decode()
    assert SECRET not in result.output
    assert SECRET not in (project / "r.json").read_text()
    assert SECRET not in Path(live.log).read_text()


def test_a_publish_failure_keeps_the_report_and_exits_3_or_the_local_code(
    project: Path, tmp_path: Path
) -> None:
    # A port held bound and never listening: refused, and no other test's server can take it
    # meanwhile (a free port picked here was bound by another worker's live app in CI).
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{holder.getsockname()[1]}"
    try:
        _publish_to_a_closed_port(project, closed)
    finally:
        holder.close()


def _publish_to_a_closed_port(project: Path, closed: str) -> None:
    passed = publish(project, closed, "rqf_" + "x" * 43, github("1"))
    assert passed.code == 3, passed.output
    assert "could not publish run" in passed.stderr
    assert "the report was still written" in passed.stderr
    assert (project / "r.json").is_file()
    failed = publish(
        project, closed, "rqf_" + "x" * 43, github("1"), "--set", "path=broken", output="f.json"
    )
    assert failed.code == 1, failed.output
    assert "could not publish run" in failed.stderr
    assert (project / "f.json").is_file()


@pytest.mark.parametrize("refused", ["unknown", "revoked", "viewer"])
def test_a_token_that_cannot_publish_stops_the_job_before_anything_runs(
    live: LiveApp,
    project: Path,
    workspace: Workspace,
    editor: User,
    viewer: User,
    refused: str,
    token: str,
) -> None:
    """A CI job with a bad token ran the whole journey, then failed to publish: the token is
    asked about first (GET /api/v1/ci/access) and the job stops at once, exit 3."""
    if refused == "unknown":
        key = "rqf_" + "x" * 43
    elif refused == "revoked":
        created = api_token_create(user=editor, workspace=workspace, name="old")
        api_token_revoke(token=created.token, by=editor)
        key = created.key
    else:
        key = api_token_create(user=viewer, workspace=workspace, name="read-only").key

    result = publish(project, live.url, key, github("77"), output="never.json")

    assert result.code == 3, result.output
    assert "will not take published runs" in result.stderr
    assert "Nothing was run." in result.stderr
    words = {"unknown": "token", "revoked": "revoked", "viewer": "editor role"}[refused]
    assert words in result.stderr.lower()
    assert not (project / "never.json").exists()
    assert not Run.objects.filter(workspace=workspace).exists()
    assert key not in result.output
    # The editor's token may publish: asked the same way, the server says so.
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{live.url}/api/v1/ci/access", headers=headers, timeout=10)
    assert answer.json() == {"workspace": workspace.slug, "role": "editor"}


def test_publish_without_a_server_says_what_to_set(project: Path, tmp_path: Path) -> None:
    env = {"REQFLO_SECRET_API_KEY": SECRET, "XDG_CONFIG_HOME": str(tmp_path / "no-login")}
    result = run_subprocess(
        "run",
        "smoke.yaml",
        "--env",
        "staging",
        "--publish",
        "--output",
        "n.json",
        env=env,
        cwd=project,
    )
    assert result.code == 3
    assert "REQFLO_URL" in result.stderr
    # Checked before anything runs: no report, nothing sent.
    assert not (project / "n.json").exists()


def test_concurrent_attempts_data_rows_and_a_server_journey(
    live: LiveApp, token: str, project: Path
) -> None:

    # Two attempts of one job at the same moment: the database lets one create the run.
    host = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_") and k != "CI"}
    procs = [
        subprocess.Popen(
            [str(REQFLO), "run", "smoke.yaml", "--env", "staging", "--publish"],
            cwd=project,
            env={
                **host,
                **_without_ci_of_the_host(
                    {
                        "REQFLO_URL": live.url,
                        "REQFLO_TOKEN": token,
                        "REQFLO_SECRET_API_KEY": SECRET,
                        **github("6001", attempt=attempt),
                    }
                ),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for attempt in ("1", "2")
    ]
    answers = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], answers
    assert Run.objects.count() == 1
    assert len(CiRunInfo.objects.get().later_attempts) == 1

    # --data: one run per row, and the retried job makes no more.
    (project / "rows.csv").write_text("path\nok\nalso-ok\n")
    for attempt in ("1", "2"):
        rows = publish(
            project, live.url, token, github("6002", attempt=attempt), "--data", "rows.csv"
        )
        assert rows.code == 0, rows.output
    assert Run.objects.count() == 3
    assert sorted(Run.objects.values_list("inputs__path", flat=True)) == ["also-ok", "ok", "ok"]

    # A server journey run here publishes onto its existing version (nothing pushed).
    pushed = run_subprocess(
        "push", "smoke.yaml", env={"REQFLO_URL": live.url, "REQFLO_TOKEN": token}, cwd=project
    )
    assert pushed.code == 0, pushed.output
    versions = JourneyVersion.objects.count()
    by_slug = run_subprocess(
        "run",
        "smoke",
        "--env",
        "staging",
        "--publish",
        env=_without_ci_of_the_host(
            {
                "REQFLO_URL": live.url,
                "REQFLO_TOKEN": token,
                "REQFLO_SECRET_API_KEY": SECRET,
                **github("6003"),
            }
        ),
        cwd=project,
    )
    assert by_slug.code == 0, by_slug.output
    assert JourneyVersion.objects.count() == versions
    assert Run.objects.count() == 4
