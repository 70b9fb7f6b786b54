"""Issue 13, kind 6 (second part): a document nested too deep is a validation error, never a 500.

The issue's inputs are cases: a JSON document whose array nests tens of thousands deep, and a
YAML `json:` body a few hundred levels deep. Each goes through every way a page reads a journey
(create by import, save from the YAML view, save from the form view, switching views, Run check)
and through the engine and the CLI; each must answer with `too_deep` naming the limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from reqflo.engine import DefinitionError, definition_from_data, load_definition
from reqflo.engine.depth import MAX_DEPTH
from reqflo.journeys.editor import state_from_document
from reqflo.journeys.models import Journey
from tests.cli.conftest import run_in_process
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney

LIMIT_TEXT = f"nested more than {MAX_DEPTH} levels deep"


def deep_json_document(depth: int = 30_000) -> str:
    body = "[" * depth + "]" * depth
    return (
        '{"journey": {"name": "Deep", "steps": [{"id": "a", "request": '
        f'{{"method": "POST", "url": "http://api.example/", "json": {body}}}}}]}}}}'
    )


def nested_flow(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def deep_yaml_document(depth: int = 400) -> str:
    return (
        "journey:\n  name: Deep\n  steps:\n    - id: a\n      request:\n        method: POST\n"
        f"        url: http://api.example/\n        json: {nested_flow(depth)}\n"
    )


def deep_block_yaml(depth: int = 300) -> str:
    lines = ["journey:", "  name: Deep", "  steps:", "    - id: a", "      request:"]
    lines += ["        method: POST", "        url: http://api.example/", "        json:"]
    lines += [" " * (10 + 2 * level) + f"k{level}:" for level in range(depth)]
    lines.append(" " * (10 + 2 * depth) + "v: 1")
    return "\n".join(lines) + "\n"


DOCUMENTS = {
    "json array 30,000 deep": deep_json_document(),
    "yaml flow body 400 deep": deep_yaml_document(),
    "yaml block body 300 deep": deep_block_yaml(),
}


# -- the engine and the CLI --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_engine_names_the_limit(name: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(DOCUMENTS[name])

    [issue] = caught.value.issues
    assert issue.code == "too_deep"
    assert LIMIT_TEXT in issue.message
    assert "at line" in issue.message


def test_parsed_data_too_deep_names_the_path() -> None:
    body: list = []
    for _ in range(MAX_DEPTH + 5):
        body = [body]
    data = {"journey": {"name": "D", "steps": [{"id": "a", "request": {"url": "u", "json": body}}]}}

    with pytest.raises(DefinitionError) as caught:
        definition_from_data(data)
    [issue] = caught.value.issues
    assert issue.code == "too_deep"
    assert issue.path.startswith("journey.steps[0].request.json[0][0]")


def test_a_document_at_a_usual_depth_still_loads() -> None:
    load_definition(deep_yaml_document(depth=MAX_DEPTH - 10))


def test_the_cli_validate_answers_with_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(deep_json_document())
    result = run_in_process("validate", path, cwd=tmp_path)

    assert result.code == 2
    assert LIMIT_TEXT in result.output
    assert "Traceback" not in result.output


# -- the pages ---------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def journey(make_journey: MakeJourney) -> Journey:
    return make_journey()


def editor_url(journey: Journey) -> str:
    return reverse("journeys:journey_editor", args=[journey.pk])


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_create_by_import_answers_with_the_limit(client_as: ClientAs, name: str) -> None:
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "import", "text": DOCUMENTS[name]}
    )

    assert response.status_code == 400
    assert LIMIT_TEXT in response.content.decode()
    assert not Journey.objects.filter(name="Deep").exists()


@pytest.mark.parametrize("op", ["save", "view_form"])
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_yaml_view_answers_with_the_limit(
    client_as: ClientAs, journey: Journey, name: str, op: str
) -> None:
    response = client_as("editor").post(
        editor_url(journey),
        {"mode": "yaml", "yaml": DOCUMENTS[name], "base_version": "1", "op": op},
    )

    assert response.status_code == 400
    assert LIMIT_TEXT in response.content.decode()
    journey.refresh_from_db()
    assert journey.head_number == 1


def form_post(journey: Journey, op: str, body: str) -> dict[str, str]:
    data = samples.post_data(state_from_document(journey.head.document))
    data.update({"steps-0-request-body_kind": "json", "steps-0-request-body": body})
    return {**data, "base_version": str(journey.head_number), "mode": "form", "op": op}


@pytest.mark.parametrize("op", ["save", "view_yaml"])
@pytest.mark.parametrize("body", [json.dumps(json.loads("[" * 500 + "]" * 500)), "[" * 30_000])
def test_the_form_view_answers_with_the_limit(
    client_as: ClientAs, journey: Journey, op: str, body: str
) -> None:
    response = client_as("editor").post(editor_url(journey), form_post(journey, op, body))

    assert response.status_code == 400
    html = response.content.decode()
    assert LIMIT_TEXT in html or "does not parse" in html  # an unclosed "[[[…" is not JSON
    assert "steps[0].request.json" in html
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_run_check_answers_with_the_limit(client_as: ClientAs, journey: Journey) -> None:
    body = "[" * 500 + "]" * 500
    response = client_as("editor").post(
        reverse("journeys:journey_check", args=[journey.pk]), form_post(journey, "check", body)
    )

    assert response.status_code in (200, 400)
    assert LIMIT_TEXT in response.content.decode()


def test_run_check_of_the_yaml_view_answers_with_the_limit(
    client_as: ClientAs, journey: Journey
) -> None:
    response = client_as("editor").post(
        reverse("journeys:journey_check", args=[journey.pk]),
        {"mode": "yaml", "yaml": deep_yaml_document(), "base_version": "1"},
    )

    assert response.status_code in (200, 400)
    assert LIMIT_TEXT in response.content.decode()
