"""Nothing in a cloud run reaches the network or the disk except through the egress transport.

A run on the worker code path (``run_execute``, as the task calls it) tries every way a journey's
content could make a library open a connection or a file on its own: JSON Schema ``$ref``s to a
URL and to a file, a redirect to a refused address, proxies from the environment, and a direct
request to a refused address. Python's audit hooks (``sys.addaudithook``) record every
``socket.connect``, name lookup, ``urllib`` request and ``open`` made meanwhile; the test fails
if any of them happened outside ``reqflo/engine/egress.py`` (for sockets and lookups) or
opened anything but Python code (for files).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

import reqflo
import reqflo.engine.egress
from reqflo.journeys.models import BuildArtifact
from reqflo.runners.execution import run_execute
from reqflo.runs.models import RunStatus
from reqflo.runs.selectors import run_step_evidence
from tests.runs.fixtures import MakeScenario, Target

pytestmark = pytest.mark.django_db

EGRESS_SOURCE = reqflo.engine.egress.__file__
NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "urllib.Request",
        "http.client.connect",
        "ftplib.connect",
    }
)
FILE_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
# What importing a module lazily may open: code and the metadata next to it.
CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth", ".typed")
# Where the import system may list folders: the interpreter's and the project's own.
IMPORT_ROOTS = (sys.prefix, sys.base_prefix, str(Path(reqflo.__file__).parent))
CANARY_TEXT = "canary-7d2e0b-worker-file"


@dataclass
class Recorder:
    """Events of interest seen while ``active``; installed once per process (hooks stay)."""

    active: bool = False
    events: list[tuple[str, str, bool]] = field(default_factory=list)


RECORDER = Recorder()
_installed = False


def _through_egress() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == EGRESS_SOURCE:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not RECORDER.active or (event not in NETWORK_EVENTS and event not in FILE_EVENTS):
        return
    shown = repr(args[1] if event == "socket.connect" else args[0])
    RECORDER.events.append((event, shown, _through_egress()))


@pytest.fixture
def audit() -> Iterator[Recorder]:
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    RECORDER.events.clear()
    yield RECORDER
    RECORDER.active = False


@dataclass
class Canary:
    """A server on 127.0.0.2, an address the policy refuses: it must never be reached."""

    url: str
    hits: list[str]


@pytest.fixture
def canary() -> Iterator[Canary]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            data = json.dumps({"type": "string", "description": CANARY_TEXT}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_CONNECT = do_GET

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield Canary(url=f"http://127.0.0.2:{server.server_address[1]}", hits=hits)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _journey(canary: Canary) -> dict[str, Any]:
    local_schema = {"type": "object"}
    return {
        "journey": {
            "name": "Every way out",
            "steps": [
                {
                    "id": "schemas",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/echo"},
                    "assertions": [
                        {"type": "status_code", "expected": 200},
                        {"type": "json_schema", "schema": local_schema},
                        {"type": "json_schema", "schema": local_schema},
                    ],
                },
                {
                    "id": "redirect",
                    "always": True,
                    "request": {
                        "method": "GET",
                        "url": "{{ env.base_url }}/redirect",
                        "query": {"to": f"{canary.url}/redirected"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
                {
                    "id": "direct",
                    "always": True,
                    "request": {"method": "GET", "url": f"{canary.url}/direct"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
                {
                    "id": "allowed",
                    "always": True,
                    "request": {"method": "GET", "url": "{{ env.base_url }}/echo?k=ok"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
            ],
        }
    }


def _code(event: str, shown: str) -> bool:
    """Whether a file event is the import system loading code (lazy imports during the run)."""
    path = shown.strip("'\"")
    if event == "open":
        return path.endswith(CODE_SUFFIXES)
    return any(path.startswith(root) for root in IMPORT_ROOTS)


def _plant_artifact(run_version: Any, canary: Canary, canary_file: Path) -> None:
    """Store the artifact as if compiled before the Run check refused outside references."""
    from reqflo.engine import compile_definition
    from reqflo.journeys.documents import check_document

    artifact = compile_definition(check_document(run_version.document).definition)
    plan = json.loads(artifact.to_json())
    assertions = plan["steps"][0]["assertions"]
    assertions[1]["schema"] = {"$ref": f"{canary.url}/schema.json"}
    assertions[2]["schema"] = {"$ref": canary_file.as_uri()}
    BuildArtifact.objects.create(
        workspace_id=run_version.journey.workspace_id,
        version=run_version,
        artifact_id=artifact.id,
        plan=json.dumps(plan),
        compiler_version=str(plan.get("compiler_version", "")),
    )


def test_a_cloud_run_opens_sockets_and_files_only_through_the_egress_transport(
    make_scenario: MakeScenario,
    target: Target,
    canary: Canary,
    audit: Recorder,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = False  # production: only the allow-list gets in
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
    canary_file = tmp_path / "on-the-worker.json"
    canary_file.write_text(json.dumps({"type": "string", "description": CANARY_TEXT}))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, canary.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    scenario = make_scenario(_journey(canary), secret=False)
    _plant_artifact(scenario.version, canary, canary_file)
    run = scenario.dispatch()

    audit.active = True
    run_execute(run_id=run.pk)
    audit.active = False

    run.refresh_from_db()
    steps = run_step_evidence(run=run)
    assert run.status == RunStatus.FAILED, run.error_message
    assert canary.hits == [], "the forbidden address was reached"
    assert [s.status for s in steps] == ["failed", "error", "error", "passed"]
    schema_checks = steps[0].attempts[0].assertions[1:]
    assert "is outside the schema document" in schema_checks[0].message
    assert "is a file" in schema_checks[1].message
    assert CANARY_TEXT not in json.dumps([s.to_dict() for s in steps])
    for step in steps[1:3]:
        error = step.attempts[-1].error
        assert error is not None
        assert "egress policy: 127.0.0.2" in error.message, error.message

    outside = [(e, w) for e, w, through in audit.events if e in NETWORK_EVENTS and not through]
    assert outside == [], "network access outside the egress transport"
    connects = [what for e, what, _ in audit.events if e == "socket.connect"]
    assert connects, "the audit saw no connection at all"
    assert all("127.0.0.1" in c for c in connects), connects
    opened = [(e, what) for e, what, _ in audit.events if e in FILE_EVENTS and not _code(e, what)]
    assert opened == [], "files opened during the run"
    assert str(canary_file) not in repr(audit.events)
