"""What the API does for a caller with the right role: documents, dispatch, push, limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from reqflo.api.errors import ApiError
from reqflo.api.matching import match_name
from reqflo.api.models import ApiToken
from reqflo.core.models import Workspace
from reqflo.journeys.models import Journey
from reqflo.journeys.services import case_create
from reqflo.runs.models import Run, RunBatch
from tests.api.conftest import ApiClient
from tests.factories import EnvironmentFactory, JourneyFactory, journey_document

ApiAs = Callable[[str], ApiClient]


@pytest.fixture
def checkout(workspace: Workspace) -> Journey:
    journey = JourneyFactory(workspace=workspace, document=journey_document("Checkout flow"))
    case_create(journey=journey, name="Happy path", values={})
    case_create(journey=journey, name="Expired token", values={})
    EnvironmentFactory(workspace=workspace, name="staging")
    return journey


def test_the_openapi_document_is_served_and_valid(db: None) -> None:
    response = ApiClient(None).client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert "/api/v1/runs" in document["paths"]
    assert document["components"]["securitySchemes"]


def test_dispatch_with_an_idempotency_key_returns_the_same_run(
    api_as: ApiAs, checkout: Journey, editor: object
) -> None:
    client = api_as("editor")
    body = {"journey": "checkout-flow", "environment": "staging", "case": "happy-path"}
    first = client.post("/runs", body, headers={"Idempotency-Key": "ci-4711"})
    again = client.post("/runs", body, headers={"Idempotency-Key": "ci-4711"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["case"] == "Happy path"
    assert Run.objects.count() == 1
    other = client.post(
        "/runs", {**body, "case": "Expired token"}, headers={"Idempotency-Key": "ci-4711"}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert Run.objects.count() == 1


def test_an_unknown_case_lists_the_choices(api_as: ApiAs, checkout: Journey) -> None:
    response = api_as("editor").post(
        "/runs", {"journey": "checkout-flow", "environment": "staging", "case": "sad-path"}
    )
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "unknown_case"
    assert "'Happy path'" in data["message"]
    assert "'Expired token'" in data["message"]
    assert Run.objects.count() == 0


def test_an_unknown_environment_lists_the_choices(api_as: ApiAs, checkout: Journey) -> None:
    response = api_as("editor").post("/runs", {"journey": "checkout-flow", "environment": "prod"})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_environment"
    assert "'staging'" in response.json()["message"]


@given(st.sampled_from(["Happy path", "happy-path", "HAPPY_PATH", "happy path", " Happy-Path "]))
@settings(max_examples=10, deadline=None)
def test_case_names_match_forgivingly(spelling: str) -> None:
    names = ["Happy path", "Expired token"]
    assert match_name(spelling.strip(), names, name_of=str, what="case") == "Happy path"


def test_an_ambiguous_loose_name_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        match_name("ab", ["a-b", "A b"], name_of=str, what="case")
    assert refused.value.code == "unknown_case"


def test_a_run_check_error_creates_nothing_and_names_the_path(
    api_as: ApiAs, workspace: Workspace
) -> None:
    document = journey_document("Needs input")
    document["journey"]["inputs"] = [{"name": "quantity", "type": "integer"}]
    JourneyFactory(workspace=workspace, document=document)
    EnvironmentFactory(workspace=workspace, name="staging")
    response = api_as("editor").post(
        "/runs",
        {"journey": "needs-input", "environment": "staging", "inputs": {"quantity": "many"}},
    )
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["code"] == "run_check_failed"
    assert any(issue["path"] == "inputs.quantity" for issue in data["issues"])
    assert Run.objects.count() == 0


def test_a_batch_dispatch_names_the_bad_row(api_as: ApiAs, workspace: Workspace) -> None:
    document = journey_document("Needs input")
    document["journey"]["inputs"] = [{"name": "quantity", "type": "integer"}]
    JourneyFactory(workspace=workspace, document=document)
    EnvironmentFactory(workspace=workspace, name="staging")
    client = api_as("editor")
    body = {"journey": "needs-input", "environment": "staging"}
    bad = client.post("/batches", {**body, "rows": [{"quantity": 1}, {"quantity": "x"}]})
    assert bad.status_code == 422
    assert any(i["path"].startswith("rows[1].") for i in bad.json()["issues"])
    good = client.post(
        "/batches", {**body, "rows": [{"quantity": 1}, {"quantity": 2}]}, {"Idempotency-Key": "b1"}
    )
    again = client.post(
        "/batches", {**body, "rows": [{"quantity": 1}, {"quantity": 2}]}, {"Idempotency-Key": "b1"}
    )
    assert (good.status_code, again.status_code) == (201, 200)
    assert good.json()["total"] == 2
    assert len(good.json()["runs"]) == 2
    assert RunBatch.objects.count() == 1
    assert Run.objects.count() == 2


def test_push_creates_a_journey_then_versions_and_nothing_when_unchanged(
    api_as: ApiAs, workspace: Workspace
) -> None:
    client = api_as("editor")
    text = (
        "journey:\n  name: Pushed\n  steps:\n    - id: s1\n      request:\n"
        "        method: GET\n        url: '{{ env.base_url }}/x'\n"
    )
    first = client.post("/journeys", {"text": text, "message": "from CI"})
    assert first.status_code == 201
    assert first.json() == {
        "journey": "pushed",
        "version": 1,
        "created": True,
        "journey_created": True,
    }
    same = client.post("/journeys", {"text": text})
    assert same.status_code == 200
    assert same.json()["created"] is False
    changed = client.post("/journeys", {"text": text.replace("/x", "/y")})
    assert changed.status_code == 201
    assert changed.json()["version"] == 2
    versions = client.get("/journeys/pushed/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[1]["message"] == "from CI"


def test_push_of_a_broken_definition_answers_path_precise_issues(
    api_as: ApiAs, workspace: Workspace
) -> None:
    text = (
        "journey:\n  name: Broken\n  steps:\n    - id: s1\n      request:\n"
        "        method: FETCH\n        url: x\n"
    )
    response = api_as("editor").post("/journeys", {"text": text})
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid_definition"
    assert any(issue["path"].startswith("steps[0].request") for issue in data["issues"])
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_a_malformed_body_is_a_json_error_naming_the_field(
    api_as: ApiAs, checkout: Journey
) -> None:
    response = api_as("editor").post("/runs", {"journey": "checkout-flow", "inputs": []})
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid_request"
    paths = {issue["path"] for issue in data["issues"]}
    assert "environment" in paths
    assert "inputs" in paths


def test_run_history_pages_with_keyset_cursors(api_as: ApiAs, checkout: Journey) -> None:
    client = api_as("editor")
    body = {"journey": "checkout-flow", "environment": "staging"}
    made = [client.post("/runs", body).json()["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get("/runs", limit=2, cursor=cursor).json()
        seen += [run["id"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
    assert client.get("/runs", cursor="garbage!").json()["code"] == "invalid_request"
    assert client.get("/runs", status="passed").json()["runs"] == []


def test_progress_long_poll_answers_at_once_when_there_is_news(
    api_as: ApiAs, checkout: Journey
) -> None:
    client = api_as("editor")
    run = client.post("/runs", {"journey": "checkout-flow", "environment": "staging"}).json()
    news = client.get(f"/runs/{run['id']}/progress", seen_status="", wait=5).json()
    assert news["status"] == "queued"
    assert news["steps"] == []


def test_too_many_requests_answer_429_with_retry_after(api_as: ApiAs, checkout: Journey) -> None:
    client = api_as("viewer")
    with override_settings(REQFLO_API_RATE_PER_MINUTE=3):
        statuses = [client.get("/journeys").status_code for _ in range(4)]
        limited = client.get("/journeys")
        other = api_as("editor").get("/journeys")
    assert statuses == [200, 200, 200, 429]
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another token has its own allowance.
    assert other.status_code == 200


def test_the_last_use_of_a_token_is_recorded(api_as: ApiAs, checkout: Journey) -> None:
    api_as("viewer").get("/journeys")
    token = ApiToken.objects.get(name="viewer")
    assert token.last_used_at is not None
    assert token.last_used_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/journeys/a\x00b", {}),
        ("/runs", {"journey": "a\x00b"}),
        ("/runs", {"environment": "\x00"}),
        ("/journeys", {"search": "\x00"}),
    ],
)
def test_nul_characters_are_a_bad_request_not_a_server_error(
    api_as: ApiAs, checkout: Journey, path: str, params: dict[str, str]
) -> None:
    response = api_as("viewer").get(path, **params)
    assert response.status_code in (400, 404), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "invalid_request"
        assert "NUL" in response.json()["message"]


def test_a_nul_character_in_dispatched_inputs_is_a_bad_request(
    api_as: ApiAs, checkout: Journey
) -> None:
    body = {"journey": "checkout-flow", "environment": "staging", "inputs": {"email": "a\x00b"}}
    response = api_as("editor").post("/runs", body)
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"] != "server_error"
    assert Run.objects.count() == 0


def test_a_run_links_to_its_page_not_to_the_api(api_as: ApiAs, checkout: Journey) -> None:
    body = {"journey": "checkout-flow", "environment": "staging", "case": "happy-path"}
    run = api_as("editor").post("/runs", body).json()
    assert run["url"].endswith(f"/runs/{run['id']}/")
    assert "/api/" not in run["url"]


def test_the_api_shows_and_sets_the_journey_default_runner(
    api_as: ApiAs, checkout: Journey
) -> None:
    client = api_as("editor")

    saved = client.post(
        "/journeys/checkout-flow/runner",
        {"default_runner": "self_hosted", "default_runner_labels": ["eu"]},
    )
    bad = client.post("/journeys/checkout-flow/runner", {"default_runner": "mars"})
    run = client.post(
        "/runs", {"journey": "checkout-flow", "environment": "staging", "case": "happy-path"}
    )

    assert saved.status_code == 200, saved.json()
    got = client.get("/journeys/checkout-flow").json()
    assert (got["default_runner"], got["default_runner_labels"]) == ("self_hosted", ["eu"])
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_request")
    assert "default_runner" in bad.content.decode()
    assert run.status_code == 201, run.json()
    assert run.json()["runner_kind"] == "self_hosted", "the journey default routed the run"
