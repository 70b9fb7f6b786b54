"""Every answer under /api/v1/ is JSON with a stable code, and the OpenAPI document tells the truth.

The routes are taken from the OpenAPI document django-ninja generates from the routers, so a
route added later is covered without touching these tests: a body that is not JSON, a method
the address lacks, an unknown address, a query parameter of the wrong kind, and the media type
of every answer against the one the document states.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqflo.api.api import api
from reqflo.core.models import Workspace
from reqflo.runners.selfhosted import runner_register
from tests.api.conftest import ApiClient
from tests.api.test_api_access import Scene, _endpoints, scene

__all__ = ["scene"]  # fixture

ApiAs = Callable[[str], ApiClient]
PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
# As served: JSON keys (statuses are strings there).
DOCUMENT = json.loads(json.dumps(api.get_openapi_schema()))
# Plain text parameters take any value; every other kind has values that are not of it.
FREE_TEXT = {"type": "string"}


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path.removeprefix(PREFIX), operation


def _fill(path: str, scene: Scene) -> str:
    """Put the scene's objects in a path template (unknown parameters get a fresh uuid)."""
    values = {
        "slug": "checkout-flow",
        "number": "1",
        "run_id": str(scene.run.pk),
        "batch_id": str(scene.batch.pk),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid4())), path)


def _send(client: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    call = getattr(client.client, method)
    return call(f"{PREFIX}{path}", headers=client.headers, **kwargs)


def _assert_json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    data: dict[str, Any] = response.json()
    assert data["code"] == code, data
    assert data["message"]
    return data


def _documented(operation: dict[str, Any], status: int) -> set[str]:
    answer = operation["responses"].get(str(status))
    assert answer is not None, f"{status} is not documented"
    return set(answer.get("content", {}))


BODIES = [b'{"journey": ', b"not json", b"\xff\xfe", b'{"a": 1,}']


@pytest.mark.parametrize("body", BODIES)
def test_a_body_that_is_not_json_is_invalid_json_on_every_route(
    api_as: ApiAs, scene: Scene, body: bytes, workspace: Workspace, owner: User
) -> None:
    client = api_as("owner")
    # The runner protocol answers a self-hosted runner's token, not an API token.
    issued = runner_register(workspace=workspace, by=owner, name="body-check")
    runner = ApiClient(f"Bearer {issued.key}")
    with_body = [(m, p) for m, p, o in _operations() if "requestBody" in o]
    assert with_body, "no route takes a body"
    assert any(p.startswith("/runner/") for _, p in with_body)
    for method, path in with_body:
        caller = runner if path.startswith("/runner/") else client
        response = _send(
            caller, method, _fill(path, scene), data=body, content_type="application/json"
        )
        data = _assert_json_error(response, 400, "invalid_json")
        assert "not valid JSON" in data["message"]


def test_a_method_an_address_lacks_is_a_json_405_with_allow(api_as: ApiAs, scene: Scene) -> None:
    client = api_as("owner")
    for path, item in DOCUMENT["paths"].items():
        allowed = {m for m in item if m in METHODS}
        for method in set(METHODS) - allowed:
            response = _send(client, method, _fill(path.removeprefix(PREFIX), scene))
            data = _assert_json_error(response, 405, "method_not_allowed")
            allow = {m.strip().lower() for m in response["Allow"].split(",")}
            assert allow == allowed, (path, method)
            assert method.upper() in data["message"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segments=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=12),
        min_size=1,
        max_size=4,
    ),
    method=st.sampled_from(["get", "post"]),
)
def test_an_unknown_api_address_is_a_json_404(
    api_as: ApiAs, scene: Scene, segments: list[str], method: str
) -> None:
    path = "/" + "/".join(segments)
    known = [re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", p), path) for _, p, _ in _operations()]
    if any(known) or path.strip("/") in ("openapi.json", "docs"):
        return
    response = _send(api_as("owner"), method, path)
    if response.status_code == 301:  # CommonMiddleware adding a slash: to another unknown address
        return
    _assert_json_error(response, 404, "not_found")


def test_an_address_outside_the_api_keeps_the_html_404(client: Any) -> None:
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def _invalid_values(schema: dict[str, Any]) -> list[str]:
    """Values a parameter of this schema refuses (none for free text)."""
    kinds = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    if kinds == [FREE_TEXT] or (
        len(kinds) == 1
        and set(kinds[0]) <= {"type", "default", "title"}
        and kinds[0].get("type") == "string"
    ):
        return []
    values = ["bogus"]
    for kind in kinds:
        if "maximum" in kind:
            values.append(str(kind["maximum"] + 1))
        if "minimum" in kind:
            values.append(str(kind["minimum"] - 1))
    return values


def test_a_query_parameter_of_the_wrong_kind_is_a_400_naming_it(
    api_as: ApiAs, scene: Scene
) -> None:
    client = api_as("owner")
    checked = set()
    for method, path, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in _invalid_values(parameter["schema"]):
                name = parameter["name"]
                response = _send(client, method, _fill(path, scene) + f"?{name}={value}")
                data = _assert_json_error(response, 400, "invalid_request")
                assert [i["path"] for i in data["issues"]] == [name], (path, name, value, data)
                assert name in data["message"]
                checked.add(name)
    assert {"status", "runner_kind", "since", "until", "batch", "limit", "wait"} <= checked


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "bogus"), ("since", "2026-13-45"), ("until", "yesterday"), ("cursor", "x" * 12)],
)
def test_run_history_filters_refuse_bad_values_by_name(
    api_as: ApiAs, scene: Scene, name: str, value: str
) -> None:
    response = api_as("viewer").get("/runs", **{name: value})
    data = _assert_json_error(response, 400, "invalid_request")
    assert data["issues"][0]["path"] == name
    assert data["message"].find(name) >= 0


def test_every_answer_has_a_status_and_media_type_the_document_states(
    api_as: ApiAs, scene: Scene
) -> None:
    operations = {(m, p): o for m, p, o in _operations()}
    templates = {m_p: re.compile(re.sub(r"\{\w+\}", "[^/]+", m_p[1]) + "$") for m_p in operations}

    def operation_of(method: str, path: str) -> dict[str, Any]:
        bare = path.split("?")[0]
        return next(
            operations[key] for key, rx in templates.items() if key[0] == method and rx.match(bare)
        )

    calls = [(m, p, b) for m, p, b, _ in _endpoints(scene)]
    calls.append(("get", f"/runs/{scene.run.pk}/report?format=junit", None))
    calls.append(("get", f"/runs/{scene.queued.pk}/report", None))  # 409: unfinished
    calls.append(("get", f"/runs/{uuid4()}", None))  # 404
    seen = set()
    for persona in ("owner", "viewer", "anonymous"):
        client = api_as(persona)
        for method, path, body in calls:
            if method == "get":
                response = client.client.get(f"{PREFIX}{path}", headers=client.headers)
            else:
                response = client.post(path, body)
            operation = operation_of(method, path)
            media = response["Content-Type"].split(";")[0]
            assert media in _documented(operation, response.status_code), (method, path, persona)
            seen.add(media)
    assert seen == {"application/json", "application/xml"}
