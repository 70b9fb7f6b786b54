"""Every API endpoint against every persona's token and every kind of bad token.

Personas: owner, editor, viewer (Acme), outsider (a Globex owner: Acme's objects are 404 and
Acme's lists never show through), anonymous (no token). Token states: revoked, expired,
malformed, unknown, and a member who left the workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from reqflo.api.models import ApiToken
from reqflo.api.services import api_token_create, api_token_revoke
from reqflo.core.models import Membership, Workspace
from reqflo.journeys.services import case_create
from reqflo.runs.models import Run, RunBatch, RunStatus
from tests.api.conftest import ApiClient
from tests.api.publishing import published_body
from tests.conftest import Loopback
from tests.factories import EnvironmentFactory, JourneyFactory, RunFactory, journey_document

ApiAs = Callable[[str], ApiClient]


@dataclass(frozen=True)
class Scene:
    run: Run
    queued: Run
    batch: RunBatch
    published: tuple[dict[str, object], str]


@pytest.fixture
def scene(workspace: Workspace, owner: User, loopback: Loopback) -> Scene:
    document = journey_document("Checkout flow", steps=2)
    document["journey"]["tags"] = ["smoke"]
    journey = JourneyFactory(workspace=workspace, document=document)
    case_create(journey=journey, name="Happy path", values={})
    environment = EnvironmentFactory(workspace=workspace, name="staging")
    run = RunFactory(
        version=journey.head, environment=environment, steps=("passed", "passed"), status="passed"
    )
    queued = RunFactory(version=journey.head, environment=environment)
    from reqflo.runners.services import batch_dispatch
    from reqflo.runs.models import Trigger

    batch = batch_dispatch(
        workspace=workspace,
        version=journey.head,  # type: ignore[arg-type]
        environment=environment,
        rows=[{}, {}],
        trigger=Trigger.API,
    ).batch
    target = loopback(Ok).url
    published = published_body(journey_document("Checkout flow", steps=2), target)
    return Scene(run=run, queued=queued, batch=batch, published=published)


class Ok(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _endpoints(scene: Scene) -> list[tuple[str, str, dict[str, object] | None, str]]:
    """(method, path, body, least role) of every endpoint, aimed at Acme's objects."""
    run, queued, batch = scene.run.pk, scene.queued.pk, scene.batch.pk
    dispatch = {"journey": "checkout-flow", "environment": "staging", "case": "happy-path"}
    push = {"document": journey_document("Pushed journey")}
    return [
        ("get", "/journeys", None, "viewer"),
        ("get", "/journeys/checkout-flow", None, "viewer"),
        ("get", "/journeys/checkout-flow/versions", None, "viewer"),
        ("get", "/journeys/checkout-flow/versions/1", None, "viewer"),
        ("get", "/journeys/checkout-flow/artifact", None, "viewer"),
        ("get", "/journeys/checkout-flow/cases", None, "viewer"),
        ("get", "/environments", None, "viewer"),
        ("post", "/journeys", push, "editor"),
        ("post", "/journeys/checkout-flow/runner", {"default_runner": "cloud"}, "editor"),
        ("post", "/runs", dispatch, "editor"),
        ("get", "/runs", None, "viewer"),
        ("get", f"/runs/{run}", None, "viewer"),
        ("get", f"/runs/{run}/progress", None, "viewer"),
        ("get", f"/runs/{run}/result", None, "viewer"),
        ("get", f"/runs/{run}/report", None, "viewer"),
        ("get", f"/runs/{run}/evidence", None, "viewer"),
        ("get", f"/runs/{run}/verify", None, "viewer"),
        ("post", f"/runs/{queued}/cancel", None, "editor"),
        ("post", "/batches", {**dispatch, "rows": [{}]}, "editor"),
        ("get", f"/batches/{batch}", None, "viewer"),
        ("get", f"/batches/{batch}/report", None, "viewer"),
        ("post", f"/batches/{batch}/cancel", None, "editor"),
        ("post", "/ci/runs", scene.published[0], "editor"),
        ("get", "/ci/access", None, "editor"),
    ]


ENDPOINT_COUNT = 24
RANK = {"viewer": 1, "editor": 2, "owner": 3}
LISTS = {"/journeys", "/environments", "/runs"}


def _call(client: ApiClient, method: str, path: str, body: dict[str, object] | None) -> object:
    if path == "/ci/runs":
        # A published run names its CI job: the same key for every persona's attempt.
        return client.post(path, body, headers={"Idempotency-Key": "ci-job-of-the-matrix"})
    return client.get(path) if method == "get" else client.post(path, body)


@pytest.mark.parametrize("index", range(ENDPOINT_COUNT))
@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "outsider", "anonymous"])
def test_endpoint_access_per_persona(api_as: ApiAs, scene: Scene, persona: str, index: int) -> None:
    method, path, body, least = _endpoints(scene)[index]
    response = _call(api_as(persona), method, path, body)
    data = response.json() if response["Content-Type"].startswith("application/json") else {}
    if persona == "anonymous":
        assert response.status_code == 401
        assert data["code"] == "token_missing"
    elif persona == "outsider":
        if method == "get" and path in LISTS:
            assert response.status_code == 200
            text = response.content.decode()
            assert "checkout-flow" not in text
            assert "staging" not in text
        elif path == "/ci/access":
            # Answers for the token's own workspace (the outsider owns theirs), never ours.
            assert response.status_code == 200, data
            assert data == {"workspace": "globex", "role": "owner"}
        elif path in ("/journeys", "/runs", "/batches", "/ci/runs") and method == "post":
            # Pushing creates in the outsider's own workspace; dispatching finds no such journey.
            assert response.status_code in (201, 404), data
            if response.status_code == 404:
                assert data["code"] == "not_found"
        else:
            assert response.status_code == 404, data
            assert data["code"] == "not_found"
    elif RANK[persona] >= RANK[least]:
        assert response.status_code in (200, 201), data
    else:
        assert response.status_code == 403, data
        assert data["code"] == "role_required"
        assert "editor role" in data["message"]


def test_the_matrix_lists_every_endpoint_of_the_api(scene: Scene) -> None:
    from reqflo.api.api import api

    schema = api.get_openapi_schema()
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        # The runner protocol takes runner tokens, not personas' (tests/runners/
        # test_self_hosted_protocol.py has its matrix).
        if method in ("get", "post") and "/runner/" not in path
    }
    assert len(operations) == ENDPOINT_COUNT == len(_endpoints(scene))


@pytest.fixture
def editor_token(editor: User, workspace: Workspace) -> ApiToken:
    return api_token_create(user=editor, workspace=workspace, name="ci").token


def _bearer(key: str) -> ApiClient:
    return ApiClient(f"Bearer {key}")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer rqf_short", "token_malformed"),
        ("Bearer not-a-token-at-all", "token_malformed"),
        ("Basic dXNlcjpwYXNz", "token_malformed"),
        ("Bearer rqf_" + "A" * 43, "token_unknown"),
        ("Bearer ", "token_missing"),
    ],
)
def test_bad_tokens_are_refused_with_a_stable_code(
    scene: Scene, authorization: str, code: str
) -> None:
    for method, path, body, _ in _endpoints(scene):
        response = _call(ApiClient(authorization), method, path, body)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["code"] == code
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_everywhere(
    scene: Scene, editor: User, workspace: Workspace, owner: User
) -> None:
    created = api_token_create(user=editor, workspace=workspace, name="laptop")
    api_token_revoke(token=created.token, by=owner)
    for method, path, body, _ in _endpoints(scene):
        response = _call(_bearer(created.key), method, path, body)
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"


def test_an_expired_token_is_refused_everywhere(
    scene: Scene, editor: User, workspace: Workspace
) -> None:
    created = api_token_create(
        user=editor, workspace=workspace, name="old", expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(pk=created.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for method, path, body, _ in _endpoints(scene):
        response = _call(_bearer(created.key), method, path, body)
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"


def test_a_token_stops_working_when_its_user_leaves_the_workspace(
    scene: Scene, editor: User, workspace: Workspace
) -> None:
    created = api_token_create(user=editor, workspace=workspace, name="laptop")
    assert _bearer(created.key).get("/journeys").status_code == 200
    Membership.objects.filter(user=editor, workspace=workspace).delete()
    response = _bearer(created.key).get("/journeys")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_a_member"


def test_a_token_acts_with_the_users_current_role(
    scene: Scene, editor: User, workspace: Workspace
) -> None:
    created = api_token_create(user=editor, workspace=workspace, name="laptop")
    Membership.objects.filter(user=editor, workspace=workspace).update(role="viewer")
    response = _bearer(created.key).post(f"/runs/{scene.queued.pk}/cancel")
    assert response.status_code == 403
    assert response.json()["code"] == "role_required"
    scene.queued.refresh_from_db()
    assert scene.queued.status == RunStatus.QUEUED
