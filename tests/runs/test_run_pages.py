"""The run page, its live part and its downloads: access, content, and no secret anywhere.

One real run (in-process, against a loopback target) fails an assertion; every page, fragment
and download of it is fetched as each persona and searched for the secret values it used.
"""

from __future__ import annotations

import copy
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from django.urls import reverse

from reqflo.engine.digest import verify_bundle
from reqflo.engine.report import REPORT_SCHEMA
from reqflo.runners.execution import run_execute
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.conftest import ClientAs, Loopback
from tests.engine.test_redaction_spellings import leaked
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Target
from tests.runs.pages import PAGES_JOURNEY, SECRET_INPUT, finished_run, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]

XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
HIDDEN = [API_KEY, TOKEN, SECRET_INPUT]
MATRIX = [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture
def run(make_scenario: MakeScenario, target: Target) -> Run:
    run = finished_run(make_scenario(PAGES_JOURNEY))
    assert run.status == RunStatus.FAILED, run.error_message
    return run


def _urls(run: Run) -> dict[str, str]:
    return {
        "page": reverse("runs:detail", kwargs={"run_id": run.pk}),
        "json": reverse("runs:report_json", kwargs={"run_id": run.pk}),
        "junit": reverse("runs:report_junit", kwargs={"run_id": run.pk}),
        "evidence": reverse("runs:evidence", kwargs={"run_id": run.pk}),
        "body": reverse("runs:body", kwargs={"run_id": run.pk, "index": 1}),
    }


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_every_page_and_download_of_a_run_answers_by_role(
    client_as: ClientAs, run: Run, persona: str, status: int
) -> None:
    client = client_as(persona)
    for name, url in _urls(run).items():
        assert client.get(url).status_code == status, name
    live = client.get(
        reverse("runs:live", kwargs={"run_id": run.pk}), headers={"HX-Request": "true"}
    )
    if persona == "anonymous":
        # htmx is sent to the login page (HtmxVaryMiddleware), never given a fragment.
        assert live.status_code == 200
        assert live["HX-Redirect"].startswith(reverse("login"))
    else:
        # A finished run's live part answers 286: htmx stops polling.
        assert live.status_code == {200: 286}.get(status, status)


def test_the_run_page_shows_what_was_sent_received_and_why_it_failed(
    client_as: ClientAs, run: Run
) -> None:
    html = (
        client_as("viewer").get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    )
    assert run.artifact.artifact_id in html
    assert "Profile check" in html
    assert "/profile" in html  # the request URL
    assert "&quot;Grace&quot;" in html  # expected
    assert "&quot;Ada&quot;" in html  # actual
    assert "no value: the JSONPath matched nothing" in html  # "no value", not null
    assert 'class="nt"' in html  # a JSON body, syntax-coloured
    assert "hx-trigger" not in html  # finished: no polling
    assert "Re-run" not in html  # a viewer reads only


def test_editors_see_re_run_on_a_finished_run(client_as: ClientAs, run: Run) -> None:
    html = (
        client_as("editor").get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    )
    assert reverse("dispatch:rerun", kwargs={"run_id": run.pk}) in html


def test_no_page_fragment_or_download_shows_a_secret_the_run_used(
    client_as: ClientAs, run: Run, target: Target
) -> None:
    assert target.seen_keys[0] == API_KEY  # the run really sent the secret
    client = client_as("owner")
    texts = {name: client.get(url).content.decode() for name, url in _urls(run).items()}
    texts["live"] = client.get(
        reverse("runs:live", kwargs={"run_id": run.pk}), headers={"HX-Request": "true"}
    ).content.decode()
    texts["list"] = client.get(reverse("runs:list")).content.decode()
    for name, text in texts.items():
        assert leaked(text, HIDDEN) == [], name
    assert "•••••" in texts["page"]


def test_the_downloads_validate_against_their_schemas(client_as: ClientAs, run: Run) -> None:
    client = client_as("viewer")
    urls = _urls(run)
    document = json.loads(client.get(urls["json"]).content)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    junit = client.get(urls["junit"])
    assert junit["Content-Disposition"].startswith("attachment;")
    xmlschema.XMLSchema(str(XSD)).validate(junit.content.decode())


def test_an_unfinished_run_polls_and_has_no_report_yet(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    run = queued_run(make_scenario(PAGES_JOURNEY))
    client = client_as("viewer")
    page = client.get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in page
    live = client.get(
        reverse("runs:live", kwargs={"run_id": run.pk}), headers={"HX-Request": "true"}
    )
    assert live.status_code == 200
    body = live.content.decode()
    assert body.lstrip().startswith('<section id="run-live"')
    assert "<html" not in body
    assert client.get(reverse("runs:report_json", kwargs={"run_id": run.pk})).status_code == 404


def test_the_live_part_without_htmx_sends_the_browser_to_the_page(
    client_as: ClientAs, run: Run
) -> None:
    response = client_as("viewer").get(reverse("runs:live", kwargs={"run_id": run.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("runs:detail", kwargs={"run_id": run.pk})


def test_the_page_shows_the_attempts_and_that_the_evidence_chain_verifies(
    client_as: ClientAs, run: Run
) -> None:
    html = (
        client_as("viewer").get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    )
    chain = html[
        html.index('data-testid="chain"') : html.index("</p>", html.index('data-testid="chain"'))
    ]
    assert "✓ The evidence digest chain verifies (3 step results" in chain
    assert run.head_digest
    assert run.head_digest in chain
    assert 'data-testid="attempts"' in html
    assert "Finished the run" in html


def test_the_evidence_bundle_verifies_offline_and_a_tampered_one_does_not(
    client_as: ClientAs, run: Run
) -> None:
    bundle = json.loads(client_as("viewer").get(_urls(run)["evidence"]).content)
    assert bundle["run"]["head_digest"] == run.head_digest
    assert bundle["run"]["artifact_id"] == run.artifact.artifact_id
    assert [a["ended_why"] for a in bundle["attempts"]] == ["finished"]
    assert verify_bundle(bundle).ok
    tampered = copy.deepcopy(bundle)
    tampered["steps"][1]["evidence"]["attempts"][0]["response"]["body"] = '{"name": "Grace"}'
    check = verify_bundle(tampered)
    assert (check.ok, check.broken_at) == (False, 1)
    dropped = copy.deepcopy(bundle)
    dropped["steps"].pop()
    assert not verify_bundle(dropped).ok


class _BigBody(BaseHTTPRequestHandler):
    """Answers a 400 KB JSON document: past the 256 KiB the evidence keeps."""

    BODY = json.dumps({"items": [{"n": n, "pad": "x" * 90} for n in range(4000)]}).encode()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)


def test_a_large_body_shows_its_true_size_and_downloads_the_stored_part(
    client_as: ClientAs, make_scenario: MakeScenario, loopback: Loopback
) -> None:
    server = loopback(_BigBody)
    document = {
        "journey": {
            "name": "Big body",
            "steps": [
                {
                    "id": "big",
                    "request": {"method": "GET", "url": server.url + "/big"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        }
    }
    scenario = make_scenario(document, secret=False)
    run = run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
    ).run
    run_execute(run_id=run.pk)
    client = client_as("viewer")
    html = client.get(reverse("runs:detail", kwargs={"run_id": run.pk})).content.decode()
    assert f"The response was {len(_BigBody.BODY) / 1024:.1f} KiB" in html
    assert "the evidence keeps its first part" in html
    body_url = reverse("runs:body", kwargs={"run_id": run.pk, "index": 0})
    assert body_url in html
    stored = client.get(body_url)
    assert stored["Content-Disposition"].startswith("attachment;")
    assert len(stored.content) == 256 * 1024
    assert _BigBody.BODY.startswith(stored.content)
    missing = client.get(reverse("runs:body", kwargs={"run_id": run.pk, "index": 5}))
    assert missing.status_code == 404


def test_the_live_part_sends_steps_the_page_already_shows_as_placeholders(
    client_as: ClientAs, run: Run
) -> None:
    live = client_as("viewer").get(
        reverse("runs:live", kwargs={"run_id": run.pk}),
        {"shown": "2"},
        headers={"HX-Request": "true"},
    )
    body = live.content.decode()
    assert live.status_code == 286
    # The browser keeps its own copy of a stored step (hx-preserve); only new ones are sent.
    assert (
        '<li id="step-0-done" hx-preserve="true" data-step="login" data-state="passed"></li>'
        in body
    )
    assert (
        '<li id="step-1-done" hx-preserve="true" data-step="profile" data-state="failed"></li>'
        in body
    )
    assert body.count("<details") >= 1
    assert "/echo" in body
    assert "/profile" not in body
