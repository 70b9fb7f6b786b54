"""``POST /api/v1/ci/runs``: publishing a run the CLI executed, with real runs against loopback.

Every body here comes from a real engine run (``tests.api.publishing``); tampering is applied
to that body afterwards, as a man in the middle or a buggy client would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey, JourneyVersion
from reqflo.journeys.services import journey_create
from reqflo.runs.models import CiRunInfo, Run, StepResult
from reqflo.runs.selectors import verify_run_chain
from tests.api.conftest import ApiClient
from tests.api.publishing import GITHUB_JOB, published_body, rechained
from tests.conftest import Loopback
from tests.factories import journey_document

ApiAs = Callable[[str], ApiClient]
PATH = "/ci/runs"


class Target(BaseHTTPRequestHandler):
    """200 with a small JSON body for every path but ``/p2-broken`` (500)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "auth": self.headers.get("X-Token", "")}).encode()
        self.send_response(500 if "broken" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def target(loopback: Loopback) -> str:
    return loopback(Target).url


DOCUMENT = journey_document("Checkout flow", steps=2)


def _post(client: ApiClient, body: dict[str, Any], key: str) -> Any:
    return client.post(PATH, body, headers={"Idempotency-Key": key})


def test_a_published_run_lands_in_history_with_its_ci_facts_and_verifies(
    api_as: ApiAs, target: str, workspace: Workspace, viewer: User
) -> None:
    body, key = published_body(DOCUMENT, target)
    response = _post(api_as("editor"), body, key)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["outcome"] == "created"
    run = Run.objects.get()
    assert str(run.pk) == body["run"]["id"] == answer["run"]["id"]
    assert (run.trigger, run.runner_kind, run.status) == ("ci", "ci", "passed")
    assert run.workspace == workspace
    assert run.next_step == run.step_count == 2
    assert run.head_digest == body["run"]["head_digest"]
    assert verify_run_chain(run).ok
    info = CiRunInfo.objects.get(run=run)
    assert (info.repository, info.ref, info.commit) == ("acme/shop", "main", GITHUB_JOB.commit)
    assert info.job_url == GITHUB_JOB.job_url
    assert Environment.objects.get(workspace=workspace, name="staging").base_url == target
    # The run page shows the facts and a chain that verifies.
    client = Client()
    client.force_login(viewer)
    page = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "acme/shop" in page
    assert GITHUB_JOB.job_url in page
    assert "evidence digest chain verifies" in page
    history = client.get(reverse("runs:list"), {"trigger": "ci", "repository": "acme/shop"})
    assert str(run.pk) in history.content.decode()
    elsewhere = client.get(reverse("runs:list"), {"repository": "acme/other"})
    assert str(run.pk) not in elsewhere.content.decode()


def test_the_same_bundle_twice_and_a_later_attempt_make_one_run(api_as: ApiAs, target: str) -> None:
    client = api_as("editor")
    body, key = published_body(DOCUMENT, target)
    assert _post(client, body, key).status_code == 201
    again = _post(client, body, key)
    assert again.status_code == 200
    assert again.json()["outcome"] == "replayed"
    # A retried CI job: the same key, its own run id and evidence, and this time it failed.
    broken = copy.deepcopy(DOCUMENT)
    broken["journey"]["steps"][1]["request"]["url"] = "{{ env.base_url }}/p2-broken"
    retry, _ = published_body(broken, target, job=GITHUB_JOB)
    third = _post(client, retry, key)
    assert third.status_code == 200
    assert third.json()["outcome"] == "kept_first"
    assert third.json()["run"]["id"] == body["run"]["id"]
    assert Run.objects.count() == 1
    info = CiRunInfo.objects.get()
    assert [(a["run_id"], a["status"]) for a in info.later_attempts] == [
        (retry["run"]["id"], "failed")
    ]
    assert Run.objects.get().status == "passed"
    # Publishing that attempt again notes it once.
    _post(client, retry, key)
    assert len(CiRunInfo.objects.get().later_attempts) == 1


def test_different_ci_runs_make_different_runs_and_reuse_the_version(
    api_as: ApiAs, target: str, workspace: Workspace
) -> None:
    client = api_as("editor")
    for _ in range(2):
        body, key = published_body(DOCUMENT, target)
        assert (
            _post(client, body, key + "-other" if Run.objects.exists() else key).status_code == 201
        )
    assert Run.objects.count() == 2
    journey = Journey.objects.get(workspace=workspace)
    assert JourneyVersion.objects.filter(journey=journey).count() == 1


def test_an_existing_identical_version_is_used_and_a_changed_one_is_pushed(
    api_as: ApiAs, target: str, workspace: Workspace, owner: User
) -> None:
    journey = journey_create(workspace=workspace, author=owner, checked=check_document(DOCUMENT))
    changed = copy.deepcopy(DOCUMENT)
    changed["journey"]["steps"][0]["request"]["url"] = "{{ env.base_url }}/p1?v=2"
    first, key = published_body(DOCUMENT, target)
    assert _post(api_as("editor"), first, key).status_code == 201
    assert Run.objects.get().journey_version.number == 1
    second, key2 = published_body(changed, target, environment="ci")
    assert _post(api_as("editor"), second, key2 + "x").status_code == 201
    assert JourneyVersion.objects.filter(journey=journey).count() == 2
    assert Run.objects.get(pk=second["run"]["id"]).journey_version.number == 2


def _tampered() -> list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]]:
    def edit_evidence(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["steps"][0]["evidence"]["duration_ms"] = 1.0
        return body

    def drop_last(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["steps"].pop()
        return body

    def drop_last_and_rechain(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["steps"].pop()
        return rechained(body)

    def swap(body: dict[str, Any]) -> dict[str, Any]:
        steps = body["run"]["steps"]
        steps[0], steps[1] = steps[1], steps[0]
        steps[0]["index"], steps[1]["index"] = 0, 1
        return rechained(body)

    def other_run_id(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["id"] = "00000000-0000-4000-8000-000000000000"
        return body

    def flip_status(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["steps"][1]["status"] = "passed"
        body["run"]["steps"][1]["evidence"]["status"] = "passed"
        return body

    def bad_head(body: dict[str, Any]) -> dict[str, Any]:
        body["run"]["head_digest"] = "0" * 64
        return body

    return [
        ("edited evidence", edit_evidence),
        ("truncated", drop_last),
        ("truncated and re-chained", drop_last_and_rechain),
        ("reordered and re-chained", swap),
        ("another run id", other_run_id),
        ("a failed step made passed", flip_status),
        ("a wrong head", bad_head),
    ]


@pytest.mark.parametrize("case", range(len(_tampered())), ids=[n for n, _ in _tampered()])
def test_a_tampered_bundle_is_refused_and_nothing_is_stored(
    api_as: ApiAs, target: str, case: int
) -> None:
    broken = copy.deepcopy(DOCUMENT)
    broken["journey"]["steps"][1]["request"]["url"] = "{{ env.base_url }}/p2-broken"
    body, key = published_body(broken, target)
    name, tamper = _tampered()[case]
    response = _post(api_as("editor"), tamper(copy.deepcopy(body)), key)
    assert response.status_code == 422, (name, response.content)
    data = response.json()
    assert data["code"] == "evidence_rejected"
    assert "Nothing was stored" in data["message"]
    assert not Run.objects.exists()
    assert not StepResult.objects.exists()
    assert not Journey.objects.exists()  # nor a journey or version pushed for it
    assert not Environment.objects.exists()


def test_a_secret_input_sent_in_clear_is_masked_before_it_is_stored(
    api_as: ApiAs, target: str
) -> None:
    document = copy.deepcopy(DOCUMENT)
    document["journey"]["inputs"] = [{"name": "pin", "type": "string", "secret": True}]
    body, key = published_body(document, target)
    body["inputs"] = {"pin": "4242-real-pin"}
    assert _post(api_as("editor"), body, key).status_code == 201
    assert "4242-real-pin" not in json.dumps(Run.objects.get().inputs)


def test_an_artifact_the_server_does_not_compile_to_is_refused(api_as: ApiAs, target: str) -> None:
    body, key = published_body(DOCUMENT, target)
    body["artifact_id"] = "art_0000000000000000"
    response = _post(api_as("editor"), body, key)
    assert response.status_code == 409
    assert response.json()["code"] == "artifact_mismatch"
    assert not Run.objects.exists()
    assert not JourneyVersion.objects.exists()


def test_a_javascript_job_url_is_not_kept(api_as: ApiAs, target: str) -> None:
    body, key = published_body(DOCUMENT, target)
    body["ci"]["job_url"] = "javascript:alert(1)"
    assert _post(api_as("editor"), body, key).status_code == 201
    assert CiRunInfo.objects.get().job_url == ""


def test_a_body_over_the_upload_limit_gets_a_clear_answer(api_as: ApiAs, target: str) -> None:
    body, key = published_body(DOCUMENT, target)
    body["run"]["steps"][0]["evidence"]["padding"] = "x" * 3_000_000
    response = _post(api_as("editor"), body, key)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "2.62144 MB" in response.json()["message"]
    assert not Run.objects.exists()


def test_the_api_history_filters_ci_runs_by_trigger_and_ci_facts(
    api_as: ApiAs, target: str
) -> None:
    body, key = published_body(DOCUMENT, target)
    assert _post(api_as("editor"), body, key).status_code == 201
    viewer = api_as("viewer")
    for params, count in [
        ({"trigger": "ci"}, 1),
        ({"trigger": "editor"}, 0),
        ({"repository": "acme/shop", "ref": "main", "commit": GITHUB_JOB.commit[:7]}, 1),
        ({"repository": "acme/other"}, 0),
        ({"commit": "ffff"}, 0),
    ]:
        response = viewer.get("/runs", **params)
        assert response.status_code == 200
        assert len(response.json()["runs"]) == count, params


@given(
    provider=st.sampled_from(["github", "gitlab", "other"]),
    first=st.sampled_from(["", "1", "2", "7781"]),
    later=st.lists(st.sampled_from(["", "1", "2", "7781"]), max_size=4),
)
def test_later_publishes_are_named_as_their_ci_names_attempts(
    provider: str, first: str, later: list[str]
) -> None:
    info = CiRunInfo(
        provider=provider,
        attempt=first,
        later_attempts=[
            {"run_id": f"r{i}", "attempt": a, "status": "failed"} for i, a in enumerate(later)
        ],
    )
    unit = "job id" if provider == "gitlab" else "attempt"

    for attempt, note in zip(later, info.later_publishes, strict=True):
        if not attempt:
            assert note["label"] == "an attempt the CI did not number"
        elif attempt == first:
            # The CLI published twice within one attempt: not "a later attempt 1".
            assert note["label"] == f"another run in the same {unit} {attempt}"
        else:
            assert note["label"] == f"{unit} {attempt}"
    assert info.attempt_label() == (f"{unit} {first}" if first else "")
