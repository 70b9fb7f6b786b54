"""The quick start cannot rot: boot the embedded default (SQLite + filesystem broker) for real.

Runs the same steps as `make run` — migrate, seed_demo, then `start_all` (the Procfile's web,
worker and beat under honcho) — in a temporary var/ folder with no production variable set.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
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
)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    env["REQFLO_VAR_DIR"] = str(tmp_path_factory.mktemp("var"))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    # What `make run PORT=…` exports for every command it runs (migrate, seed_demo, start_all).
    env["REQFLO_BIND"] = f"127.0.0.1:{_free_port()}"
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def embedded_app(embedded_env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    migrate = _manage(embedded_env, "migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stderr
    seed = _manage(embedded_env, "seed_demo")
    assert seed.returncode == 0, seed.stderr
    assert "owner@demo.reqflo.test" in seed.stdout

    proc = subprocess.Popen(
        [sys.executable, "manage.py", "start_all"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://{embedded_env['REQFLO_BIND']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    try:
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends: honcho stops every process
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_embedded_default_serves_the_login_page(
    embedded_app: tuple[str, subprocess.Popen[str]],
) -> None:
    base, proc = embedded_app
    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
    response = httpx.get(base + "/", follow_redirects=True, timeout=10)
    assert response.status_code == 200
    assert 'type="password"' in response.text
    assert "htmx" in response.text


def test_embedded_default_serves_static_files(
    embedded_app: tuple[str, subprocess.Popen[str]],
) -> None:
    base, _ = embedded_app
    response = httpx.get(base + "/static/css/app.css", timeout=10)
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


def test_embedded_default_mounts_the_demo_shop(
    embedded_app: tuple[str, subprocess.Popen[str]],
) -> None:
    base, _ = embedded_app
    response = httpx.post(
        base + "/demo-shop/api/login", json={"email": "a@b.test", "password": "x"}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["token"]


def test_embedded_default_uses_sqlite_and_the_filesystem_broker(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    # ``embedded_app`` ran migrate: the SQLite file exists whatever order the tests run in.
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**embedded_env, "DJANGO_SETTINGS_MODULE": "reqflo.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.split() == ["django.db.backends.sqlite3", "reqflo-fs://localhost//"]
    assert (Path(embedded_env["REQFLO_VAR_DIR"]) / "reqflo.sqlite3").exists()


def test_the_embedded_database_keeps_its_immutability_triggers_through_every_migration(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    # SQLite rebuilds a table to add a NOT NULL column, which drops its triggers; the migrations
    # that do so put them back (runs 0004).
    database = Path(embedded_env["REQFLO_VAR_DIR"]) / "reqflo.sqlite3"
    with sqlite3.connect(database) as connection:
        names = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    for table in ("runs_run_finished", "runs_stepresult", "journeys_journeyversion"):
        assert {f"{table}_no_update", f"{table}_no_delete"} <= names


def test_embedded_worker_consumes_from_the_filesystem_broker(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    # A ping through the broker to the worker honcho started, answered in the SQLite file.
    result = _manage(embedded_env, "ping_worker", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert "answered on queue 'reqflo' of the embedded broker in" in result.stdout


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _worker_pid(var_dir: str) -> int | None:
    """Return the pid of the embedded stack's runs worker main process, if it runs.

    The pool processes are children of the main process; the main process is a child of the
    supervisor (``manage.py start_all``), not of another celery process.
    """
    for pid in _processes_using(var_dir):
        if b"worker" not in _cmdline(pid) or not _cmdline(pid)[0:2]:
            continue
        if any(arg.startswith(b"alerts@") for arg in _cmdline(pid)):
            continue  # the alerts worker (Procfile `alerts`), not the runs' worker
        if not any(arg.endswith(b"celery") for arg in _cmdline(pid)):
            continue
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if not any(arg.endswith(b"celery") for arg in _cmdline(parent)):
            return pid
    return None


def test_a_killed_worker_is_restarted_while_the_web_server_keeps_answering(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    base, proc = embedded_app
    var_dir = embedded_env["REQFLO_VAR_DIR"]
    killed = _worker_pid(var_dir)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    # The web server answers throughout, and a new worker comes up.
    deadline = time.monotonic() + 60
    restarted = None
    while time.monotonic() < deadline:
        assert httpx.get(base + "/", timeout=10).status_code in {200, 302}
        restarted = _worker_pid(var_dir)
        if restarted not in {None, killed}:
            break
        time.sleep(0.5)
    assert restarted not in {None, killed}
    assert proc.poll() is None
    # …and it answers through the broker.
    result = _manage(embedded_env, "ping_worker", "--timeout", "60")
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_keeps_its_files_to_their_owner(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    var_dir = Path(embedded_env["REQFLO_VAR_DIR"])
    assert var_dir.stat().st_mode & 0o777 == 0o700
    for path in var_dir.rglob("*"):
        mode = path.stat().st_mode & 0o777
        if path.is_dir():
            assert mode == 0o700, path
        else:
            assert mode == 0o600, path


def test_the_readme_cli_command_runs_against_the_app_on_another_port(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    # README: with `PORT=… make run`, give the CLI the same PORT; examples/ is not edited.
    port = embedded_env["REQFLO_BIND"].rsplit(":", 1)[1]
    result = subprocess.run(
        [str(BIN / "reqflo"), "run", "examples/checkout.yaml", "--env", "demo"],
        cwd=ROOT,
        env={**embedded_env, "PORT": port},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Exit 0 means every step passed, so every request reached the demo shop on this port.
    assert result.returncode == 0, result.stdout + result.stderr


def _processes_using(var_dir: str) -> list[int]:
    """Return the ids of processes started with ``REQFLO_VAR_DIR=var_dir`` (from /proc)."""
    marker = f"REQFLO_VAR_DIR={var_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


# Links a person may follow without changing anything (GET only; these pages are forms anyway).
_NOT_FOLLOWED = re.compile(r"logout|/static/|/export|download|\.(?:json|yaml|csv|zip|xml)$")


def _logged_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    client.get("/accounts/login/")
    login = client.post(
        "/accounts/login/",
        data={
            "username": email,
            "password": "reqflo-demo",
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    assert login.status_code == 200, login.text
    assert "/accounts/login/" not in str(login.url), login.text
    return client


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_every_page_a_demo_user_reaches_answers_on_the_embedded_default(
    embedded_app: tuple[str, subprocess.Popen[str]], persona: str
) -> None:
    """Follow every same-origin link from the home page (as the shared crawler does): no page
    answers 5xx on SQLite. The kind: a query only PostgreSQL understands (DISTINCT ON gave the
    editor page a 500 on the quick start while every test ran on PostgreSQL)."""
    base, _ = embedded_app
    seen: set[str] = set()
    # Filters a link may not lead to: a JSON lookup only PostgreSQL has is the same kind.
    queue = ["/", "/journeys/?tag=smoke", "/runs/?tag=smoke"]
    failures = []
    client = _logged_in(base, f"{persona}@demo.reqflo.test")
    try:
        while queue and len(seen) < 150:
            path = queue.pop(0)
            if path in seen or _NOT_FOLLOWED.search(path):
                continue
            seen.add(path)
            page = client.get(path)
            if page.status_code >= 500:
                failures.append(f"{page.status_code} {path}")
                continue
            if "text/html" not in page.headers.get("content-type", ""):
                continue
            for href in re.findall(r'href="([^"#]+)', page.text):
                link = urlsplit(urljoin(base + path, html.unescape(href)))
                if link.netloc == urlsplit(base).netloc:
                    queue.append(link.path + (f"?{link.query}" if link.query else ""))
    finally:
        client.close()
    assert not failures, failures
    assert any(p.startswith("/journeys/") and p.count("/") == 3 for p in seen), sorted(seen)
    assert len(seen) > 15, sorted(seen)


def test_the_tag_filters_match_exact_tags_on_the_embedded_default(
    embedded_app: tuple[str, subprocess.Popen[str]],
) -> None:
    """The demo journey is tagged smoke and shop: each filter finds it; other tags (a prefix,
    another case, a JSON fragment) do not."""
    base, _ = embedded_app
    client = _logged_in(base, "viewer@demo.reqflo.test")
    try:
        for tag, found in [("smoke", True), ("shop", True), ("Smoke", False), ("smo", False)]:
            page = client.get("/journeys/", params={"tag": tag})
            assert page.status_code == 200
            assert ("Checkout flow" in page.text) == found, tag
        assert client.get("/journeys/", params={"tag": '"smoke"'}).status_code == 200
        assert client.get("/runs/", params={"tag": "smoke"}).status_code == 200
    finally:
        client.close()


def test_admin_runners_checks_the_embedded_worker_end_to_end(
    embedded_app: tuple[str, subprocess.Popen[str]],
) -> None:
    # The demo owner presses Check connection: the worker honcho started is found by its
    # heartbeat in the SQLite file and answers a ping through the embedded broker.
    from django.urls import reverse

    base, _ = embedded_app
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
        client.get(reverse("login"))
        login = client.post(
            reverse("login"),
            data={
                "username": "owner@demo.reqflo.test",
                "password": "reqflo-demo",
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        assert login.status_code == 200
        deadline = time.monotonic() + 60
        while True:
            page = client.post(
                reverse("runners:check"),
                headers={"HX-Request": "true", "X-CSRFToken": client.cookies["csrftoken"]},
            )
            assert page.status_code == 200, page.text
            if page.text.count("✓ OK") == 3 or time.monotonic() > deadline:
                break
            time.sleep(1)  # the worker may still be starting (honcho restarts, first heartbeat)
    assert page.text.count("✓ OK") == 3, page.text
    assert "accepts connections." in page.text
    assert "1 worker consumes queue reqflo:" in page.text
    assert "A ping sent to queue reqflo was answered by" in page.text


# Last: it stops the stack every test above shares.
def test_ctrl_c_stops_every_process(
    embedded_app: tuple[str, subprocess.Popen[str]], embedded_env: dict[str, str]
) -> None:
    _, proc = embedded_app
    assert _processes_using(embedded_env["REQFLO_VAR_DIR"])  # honcho, gunicorn, celery…
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=45)
    finally:
        output = proc.stdout.read() if proc.stdout else ""
        print(output)
    # Each of the three processes started and was stopped by the one Ctrl-C.
    for name in ("web.1", "worker.1", "beat.1"):
        assert f"{name} started" in output
        assert f"{name} stopped" in output or f"{name} exited" in output
    assert "SIGKILL" not in output  # the worker had time for its warm shutdown
    if "exited unexpectedly" in output:  # when the kill test ran first, its restart is logged
        assert "worker.1 exited unexpectedly (rc=-9)" in output
        assert "restarting it in 1 s" in output
    # Nothing is left behind: not a gunicorn worker, not a Celery pool process.
    deadline = time.monotonic() + 15
    while _processes_using(embedded_env["REQFLO_VAR_DIR"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_using(embedded_env["REQFLO_VAR_DIR"]) == []
