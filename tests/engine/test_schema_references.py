"""JSON Schema references: resolved only inside the schema document, never fetched or read.

The Run check refuses every reference that would need anything else (a URL, a file, another
document), naming its path; a plan that gets past it anyway (an artifact compiled before this
rule) still fetches nothing, and any exception while a check is evaluated fails that check
with its reason instead of escaping from the step.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reqflo.engine import (
    Artifact,
    DefinitionError,
    RunResult,
    compile_definition,
    load_definition,
    run_artifact,
    run_check,
)
from tests.engine.conftest import Target

CANARY = "canary-4f1d9c-file-content"


def journey(schema: Any) -> str:
    return textwrap.dedent(
        f"""
        journey:
          name: Schema refs
          steps:
            - id: check
              request: {{method: GET, url: "{{{{ env.base_url }}}}/json"}}
              assertions:
                - {{type: status_code, expected: 200}}
                - {{type: json_schema, schema: {json.dumps(schema)}}}
        """
    )


def schema_issues(schema: Any) -> list[tuple[str, str, str]]:
    issues = run_check(load_definition(journey(schema)))
    return [(i.code, i.path, i.message) for i in issues if i.severity == "error"]


REFUSED = [
    pytest.param({"$ref": "http://127.0.0.1:9/internal?x=1"}, ".$ref", "never fetched", id="http"),
    pytest.param({"$ref": "https://example.com/s.json"}, ".$ref", "never fetched", id="https"),
    pytest.param({"$ref": "file:///etc/passwd"}, ".$ref", "never read from disk", id="file"),
    pytest.param(
        {"properties": {"a": {"items": {"$ref": "file:relative.json"}}}},
        ".properties.a.items.$ref",
        "never read from disk",
        id="nested-file",
    ),
    pytest.param(
        {"$id": "https://schemas.example/root.json", "$ref": "other.json"},
        ".$ref",
        "(that is https://schemas.example/other.json) is outside the schema document",
        id="relative-to-remote-id",
    ),
    pytest.param(
        {"$defs": {"a": {"$dynamicRef": "ftp://example.com/x"}}},
        ".$defs.a.$dynamicRef",
        "never fetched",
        id="dynamic-ref",
    ),
    pytest.param(
        {"$ref": "#/$defs/missing", "$defs": {"present": {}}},
        ".$ref",
        "'#/$defs/missing' does not resolve inside the schema document",
        id="dangling-pointer",
    ),
    pytest.param({"$ref": "other.json"}, ".$ref", "does not resolve", id="relative-no-base"),
    pytest.param(
        {"properties": {"a": {"type": "integer"}, "b": {"$ref": "#/properties/a/type"}}},
        ".properties.b.$ref",
        "resolves to a string, not a JSON Schema",
        id="not-a-schema",
    ),
]


@pytest.mark.parametrize(("schema", "where", "words"), REFUSED)
def test_the_run_check_refuses_references_outside_the_schema_document(
    schema: Any, where: str, words: str
) -> None:
    [(code, path, message)] = schema_issues(schema)
    assert code == "schema_reference"
    assert path == f"steps[0].assertions[1].schema{where}"
    assert words in message


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param({"$ref": "#/$defs/a", "$defs": {"a": {"type": "object"}}}, id="pointer"),
        pytest.param({"$anchor": "top", "properties": {"a": {"$ref": "#top"}}}, id="anchor"),
        pytest.param(
            {
                "$id": "https://schemas.example/root.json",
                "$ref": "item.json",
                "$defs": {"item": {"$id": "item.json", "type": "object"}},
            },
            id="embedded-id",
        ),
        pytest.param(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "definitions": {"a": {"$id": "#obj", "type": "object"}},
                "$ref": "#obj",
            },
            id="draft7-fragment-id",
        ),
        pytest.param(
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "properties": {"a": {"$ref": "#/definitions/a"}},
                "definitions": {"a": {}},
            },
            id="draft4",
        ),
        pytest.param({"$ref": "https://json-schema.org/draft/2020-12/schema"}, id="meta-schema"),
        pytest.param({"enum": [{"$ref": "http://example.com/"}]}, id="data-not-reference"),
    ],
)
def test_references_inside_the_document_pass_the_run_check(schema: Any) -> None:
    assert schema_issues(schema) == []


def test_compiling_a_journey_with_a_remote_reference_is_refused() -> None:
    definition = load_definition(journey({"$ref": "http://127.0.0.1:9/internal"}))
    with pytest.raises(DefinitionError) as raised:
        compile_definition(definition)
    assert "steps[0].assertions[1].schema.$ref" in str(raised.value)


def _run_with_schema(target: Target, schema: Any) -> RunResult:
    """Run a plan holding ``schema`` as if it had been compiled before the Run check refused it."""
    artifact = compile_definition(load_definition(journey({"type": "object"})))
    plan = json.loads(artifact.to_json())
    plan["steps"][0]["assertions"][1]["schema"] = schema
    return run_artifact(
        Artifact(plan), inputs={}, environment={"base_url": target.base_url}, secrets={}
    )


def _schema_result(result: RunResult) -> tuple[bool, str]:
    assertions = result.steps[0].attempts[-1].assertions
    assert assertions[0].passed, "the status check still ran"
    return assertions[1].passed, assertions[1].message


def test_a_remote_reference_is_never_fetched_at_run_time(target: Target) -> None:
    seen = len(target.state.requests)
    result = _run_with_schema(target, {"$ref": f"{target.base_url}/schema"})
    passed, message = _schema_result(result)
    assert not passed
    assert "is outside the schema document" in message
    sent = [r["path"] for r in target.state.requests[seen:]]
    assert sent == ["/json"], "the $ref was fetched"
    assert result.status == "failed"


def test_a_file_reference_is_never_read_at_run_time(target: Target, tmp_path: Path) -> None:
    secret_file = tmp_path / "worker-file.json"
    secret_file.write_text(json.dumps({"type": "string", "description": CANARY}))
    result = _run_with_schema(target, {"$ref": secret_file.as_uri()})
    passed, message = _schema_result(result)
    assert not passed
    assert "is a file" in message
    assert CANARY not in json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        pytest.param({"$ref": "#/$defs/missing"}, "does not resolve", id="dangling"),
        pytest.param(
            {"properties": {"count": {"$ref": "#/$defs/a/type"}}, "$defs": {"a": {"type": "x"}}},
            "the check could not be evaluated",
            id="not-a-schema",
        ),
        pytest.param({"$ref": "#"}, "lead back to themselves without end", id="endless-recursion"),
    ],
)
def test_an_exception_while_evaluating_a_check_fails_that_check_with_its_reason(
    target: Target, schema: Any, words: str
) -> None:
    result = _run_with_schema(target, schema)
    passed, message = _schema_result(result)
    assert not passed
    assert words in message
    assert message.startswith("body: ")
    assert result.steps[0].status == "failed"
    # The check found no value: it says so in the documented way, not as an actual `null`.
    check = result.steps[0].attempts[-1].assertions[1].to_dict()
    assert (check["actual"], check["actual_missing"]) == (None, "not_evaluated")


def test_a_schema_too_deep_to_walk_is_an_error_not_a_crash() -> None:
    from reqflo.engine.json_schemas import schema_reference_problems

    schema: dict[str, Any] = {}
    inner = schema
    for _ in range(5000):
        inner["items"] = {}
        inner = inner["items"]
    assert schema_reference_problems(schema) == [
        ("", "the schema is nested too deeply to check its references")
    ]
