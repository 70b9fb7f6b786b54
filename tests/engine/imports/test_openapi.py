"""OpenAPI documents to journeys: real specs run against real servers, hostile documents refused."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import definition_from_data, run_check
from reqflo.engine.imports import SourceError, import_openapi
from tests.engine.imports.conftest import DATA, journey, run_journey, statuses
from tests.loopback import LoopbackServer, serving

PETSTORE_30 = DATA / "openapi" / "petstore-3.0.yaml"
PETSTORE_31 = DATA / "openapi" / "petstore-3.1.yaml"
HTTPBIN = DATA / "openapi" / "httpbin-0.10.4-spec.json"


class _Fixed(LoopbackServer):
    """Answer every request with one fixed JSON body and count the requests."""

    def __init__(self, body: Any) -> None:
        super().__init__(_FixedHandler)
        self.body = json.dumps(body).encode()
        self.hits = 0


class _FixedHandler(BaseHTTPRequestHandler):
    server: _Fixed

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)


@pytest.fixture
def fixed() -> Iterator[Any]:
    with ExitStack() as stack:
        yield lambda body: stack.enter_context(serving(_Fixed(body)))


def test_httpbins_own_spec_runs_against_httpbin(httpbin: str) -> None:
    result = import_openapi(HTTPBIN.read_bytes())

    assert result.environments == {"default": {"base_url": "https://httpbin.org"}}
    assert len(result.journeys) == 11
    expected = {
        "http-methods": 5,
        "anything": 10,
        "request-inspection": 3,
        "response-formats": 9,
    }
    for slug, count in expected.items():
        run = run_journey(journey(result, slug), httpbin)
        assert list(statuses(run).values()) == ["passed"] * count, (slug, statuses(run))


def test_path_parameters_become_inputs_with_the_specs_defaults(httpbin: str) -> None:
    result = import_openapi(HTTPBIN.read_bytes())
    dynamic = journey(result, "dynamic-data")

    inputs = {i["name"]: i for i in dynamic.document["journey"]["inputs"]}
    assert inputs["value"]["default"] == "SFRUUEJJTiBpcyBhd2Vzb21l"
    assert inputs["n"] == {"name": "n", "required": True}
    run = run_journey(dynamic, httpbin, inputs={"n": 16, "delay": 0, "numbytes": 8, "offset": 0})
    assert statuses(run)["get-base64-value"] == "passed"
    assert statuses(run)["get-bytes-n"] == "passed"


def test_the_validator_findings_of_a_real_spec_are_reported_with_their_path() -> None:
    result = import_openapi(HTTPBIN.read_bytes())

    notes = [str(item) for item in result.items if item.severity == "note"]
    assert any(
        n.startswith("/paths/~1bytes~1{n}/get/parameters/0: the spec is not valid") for n in notes
    )


@settings(max_examples=25, deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + string.digits + "!#%&*+-=?^_~", min_size=6, max_size=24)
)
def test_a_validator_note_names_the_place_and_rule_never_the_documents_values(value: str) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Leaky", "version": {"x-password": value}},
        "x-password": value,
        "paths": {
            "/a/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "x-password": value}],
                    "responses": {"200": {"description": "ok", "x-password": value}},
                    "x-password": value,
                }
            },
            "/b": {"get": {"x-password": value, "summary": value}},
        },
    }

    result = import_openapi(json.dumps(spec))

    notes = [str(item) for item in result.items if "not valid" in item.message]
    assert any(n.startswith("/info/version: the spec is not valid here") for n in notes)
    assert any(
        n == "/paths/~1b/get: the spec is not valid here: required field missing: responses"
        for n in notes
    )
    notes_text = "\n".join(notes)
    assert value not in notes_text
    assert "x-password" not in notes_text


@pytest.mark.parametrize("path", [PETSTORE_30, PETSTORE_31])
def test_a_petstore_response_schema_accepts_pets_and_rejects_others(path: Path, fixed: Any) -> None:
    result = import_openapi(path.read_bytes())
    pets = journey(result, "pets")
    steps = pets.document["journey"]["steps"]
    assert [s["id"] for s in steps] == ["listpets", "createpets", "showpetbyid"]
    assert steps[2]["request"]["url"] == "{{ env.base_url }}/pets/{{ inputs.petId }}"
    list_only = {"journey": {**pets.document["journey"], "steps": steps[:1], "inputs": []}}
    pets.document = list_only

    good = fixed([{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom", "tag": "cat"}])
    bad = fixed([{"id": "one", "name": "Rex"}])

    assert statuses(run_journey(pets, good.url)) == {"listpets": "passed"}
    failed = run_journey(pets, bad.url)
    assert statuses(failed) == {"listpets": "failed"}
    assert [a.type for a in failed.steps[0].failed_assertions] == ["json_schema"]


def test_chosen_operations_make_one_journey_in_the_order_given() -> None:
    result = import_openapi(
        HTTPBIN.read_bytes(), operations=["POST /post", "GET /get", "nosuchOperation"]
    )

    [only] = result.journeys
    assert [s["id"] for s in only.document["journey"]["steps"]] == ["post-post", "get-get"]
    assert "operation 'nosuchOperation': is not in the document" in str(result.skipped[0])


def test_a_yaml_alias_bomb_is_refused() -> None:
    lines = ["openapi: 3.0.0", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    with pytest.raises(SourceError, match="expands to more than 2000000 values"):
        import_openapi("\n".join(lines))


def test_a_ref_to_a_url_is_refused_and_never_fetched(fixed: Any) -> None:
    target = fixed({"type": "object"})
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": f"{target.url}/s.json"}}
                            },
                        }
                    }
                }
            }
        },
    }

    with pytest.raises(
        SourceError, match=r"refers outside itself .*files and URLs are never fetched"
    ):
        import_openapi(json.dumps(spec))
    assert target.hits == 0


def test_a_ref_to_a_file_is_refused_and_never_read(tmp_path: Path) -> None:
    secret_file = tmp_path / "schemas.yaml"
    secret_file.write_text("Pet: {type: object, description: PRIVATE-CONTENT}\n")
    spec = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /x:\n    get:\n"
        f"      parameters: [{{$ref: '{secret_file}#/Pet'}}]\n"
        "      responses: {'200': {description: ok}}\n"
    )

    with pytest.raises(SourceError) as caught:
        import_openapi(spec)
    assert str(secret_file) in caught.value.message
    assert "PRIVATE-CONTENT" not in caught.value.message


def test_a_broken_local_ref_costs_only_its_operation() -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "/api"}],
        "paths": {
            "/ok": {"get": {"responses": {"204": {"description": "none"}}}},
            "/broken": {
                "get": {
                    "parameters": [{"$ref": "#/components/parameters/Nope"}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }

    result = import_openapi(
        json.dumps(spec), source_url="https://api.example.com/spec/openapi.json"
    )

    [only] = result.journeys
    assert [s["id"] for s in only.document["journey"]["steps"]] == ["get-ok"]
    assert (
        "paths./broken.get: left out: $ref '#/components/parameters/Nope' points at nothing in "
        "the document" in [str(item) for item in result.skipped]
    )
    assert result.environments == {"default": {"base_url": "https://api.example.com/api"}}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("openapi: 3.0.0\ninfo: [", "invalid YAML at line 3"),
        ("swagger: '1.2'\n", "'openapi: 1.2' is not supported"),
        ("title: nothing\n", "no 'openapi' \\(or 'swagger'\\) version key"),
        ("openapi: 3.0.0\ninfo: {title: T, version: '1'}\n", "no 'paths' mapping"),
        ("x" * (11 * 1024 * 1024), "11.0 MiB; the import limit is 10 MiB"),
    ],
)
def test_broken_documents_get_a_clear_message(source: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        import_openapi(source)


def test_security_schemes_become_secret_references() -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "security": [{"key": []}],
        "components": {
            "securitySchemes": {
                "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "token": {"type": "http", "scheme": "bearer"},
                "oauth": {"type": "oauth2", "flows": {}},
            }
        },
        "paths": {
            "/a": {
                "get": {"responses": {"200": {"description": "ok"}}},
                "post": {"security": [{"token": []}], "responses": {"201": {"description": "ok"}}},
                "put": {"security": [{"oauth": []}], "responses": {"200": {"description": "ok"}}},
            }
        },
    }

    result = import_openapi(json.dumps(spec))

    get, post, put = result.journeys[0].document["journey"]["steps"]
    assert get["request"]["headers"] == {"X-Api-Key": "{{ secrets.key }}"}
    assert post["request"]["headers"] == {"Authorization": "Bearer {{ secrets.token }}"}
    assert "headers" not in put["request"]
    assert [s.name for s in result.secrets] == ["key", "token"]
    assert "security oauth: security scheme type 'oauth2' is not set up" in str(result.skipped[0])


@pytest.mark.parametrize("keyword", ["$dynamicRef", "$recursiveRef", "$ref"])
def test_a_schema_reference_to_a_url_is_refused_at_import_as_the_run_would(keyword: str) -> None:
    spec = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        f"              schema: {{{keyword}: 'https://schemas.test/s#meta'}}\n"
    )

    with pytest.raises(SourceError) as caught:
        import_openapi(spec)
    assert f"/{keyword}: 'https://schemas.test/s#meta'" in caught.value.message


def test_a_schema_the_run_check_refuses_loses_its_assertion_not_the_step() -> None:
    spec = (
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        "              schema: {$dynamicRef: '#nowhere'}\n"
    )

    result = import_openapi(spec)

    [step] = result.journeys[0].document["journey"]["steps"]
    assert step["assertions"] == [{"type": "status_code", "expected": 200}]
    assert [str(item) for item in result.skipped] == [
        "paths./x.get: json_schema assertion left out, a run refuses it: '#nowhere' does not "
        "resolve inside the schema document"
    ]
    definition = definition_from_data(result.journeys[0].document)
    assert [i for i in run_check(definition) if i.severity == "error"] == []


def test_a_credential_parameter_is_a_secret_never_an_input_with_its_example() -> None:
    spec = (
        "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      parameters:\n"
        "        - {name: X-Api-Key, in: header, required: true, example: abc-EXAMPLE-123,\n"
        "           schema: {type: string}}\n"
        "        - {name: access_token, in: query, required: true, example: tok-EXAMPLE-9}\n"
        "        - {name: page, in: query, required: true, example: 2, schema: {type: integer}}\n"
        "      responses: {'200': {description: ok}}\n"
    )

    result = import_openapi(spec)

    document = result.journeys[0].document["journey"]
    request = document["steps"][0]["request"]
    assert request["headers"] == {"X-Api-Key": "{{ secrets.x-api-key }}"}
    assert request["query"] == {
        "access_token": "{{ secrets.access_token }}",
        "page": "{{ inputs.page }}",
    }
    assert document["inputs"] == [{"name": "page", "default": 2}]
    assert "EXAMPLE" not in json.dumps(document) + result.to_text()
    assert [s.name for s in result.secrets] == ["x-api-key", "access_token"]
