"""Issue 13, kind 6: data nested too deeply is a result with a reason, never a crash.

A response body or an input nested deeper than MAX_DATA_DEPTH would make every recursive
reader (the JSON parser, JSONPath, references, redaction, reports) raise RecursionError. The
body is refused as `body_too_deep` wherever it is read — outputs, references, assertions, the
streaming scanner — and the run goes on to its other steps; an input is an `invalid_input`
naming the limit.
"""

from __future__ import annotations

import json

import pytest

from reqflo.engine import http
from reqflo.engine.depth import MAX_DATA_DEPTH
from reqflo.engine.errors import DefinitionError
from reqflo.engine.inputs import merge_inputs
from reqflo.engine.report import render_json
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

DEPTHS = [MAX_DATA_DEPTH + 1, 999, 2000, 30000]

JOURNEY = """
journey:
  name: Deep
  steps:
    - id: c
      request: {method: GET, url: "{{ env.base_url }}/deep?depth=DEPTH"}
      assertions:
        - {type: status_code, expected: 200}
        - {type: json_path, path: $.b, operator: equals, expected: 1}
      outputs:
        b: {from: body, path: $.b}
    - id: after
      always: true
      request: {method: GET, url: "{{ env.base_url }}/echo?b={{ steps.c.body.b }}"}
"""


def _run(targets: Targets, depth: int) -> dict:
    result = run_text(JOURNEY.replace("DEPTH", str(depth)), targets.main.base_url)
    return json.loads(render_json([result]))["runs"][0]


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deep_response_body_is_a_step_result_naming_the_limit(
    targets: Targets, depth: int
) -> None:
    report = _run(targets, depth)
    first, after = report["steps"]
    attempt = first["attempts"][-1]
    check = attempt["assertions"][1]
    assert (check["passed"], check["actual"], check["actual_missing"]) == (
        False,
        None,
        "body_too_deep",
    )
    assert f"{MAX_DATA_DEPTH} levels" in check["message"]
    # The always step still runs; its reference refers to nothing, and says so.
    assert after["status"] == "error"
    assert "no usable response body" in after["attempts"][-1]["error"]["message"]


def test_a_body_just_within_the_limit_is_read(targets: Targets) -> None:
    report = _run(targets, MAX_DATA_DEPTH - 1)
    assert [s["status"] for s in report["steps"]] == ["passed", "passed"]


@pytest.mark.parametrize("path", ["$.b", "$.a"])
def test_the_streaming_scanner_refuses_a_deep_selected_value(
    targets: Targets, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(http, "STREAM_JSON_ABOVE", 0)
    text = JOURNEY.replace("DEPTH", "2000").replace(
        "path: $.b, operator", f"path: {path}, operator"
    )
    report = json.loads(render_json([run_text(text, targets.main.base_url)]))["runs"][0]
    check = report["steps"][0]["attempts"][-1]["assertions"][1]
    # The scanner refuses the same bodies the full parse does, whichever value is selected.
    assert (check["passed"], check["actual_missing"]) == (False, "body_too_deep")


TYPED = """
journey:
  name: Inputs
  inputs:
    - {name: doc, type: TYPE}
  steps:
    - id: s
      request: {method: GET, url: "http://127.0.0.1:9/"}
"""


def _deep(kind: str, depth: int) -> str:
    opening, closing = ("[", "]") if kind == "array" else ('{"k":', "}")
    inner = "[" * depth + "]" * depth
    return opening + inner + closing


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deep_json_input_is_an_input_error_naming_the_limit(kind: str, depth: int) -> None:
    from reqflo.engine import load_definition

    definition = load_definition(TYPED.replace("TYPE", kind))
    for layer in ("overrides", "row"):
        with pytest.raises(DefinitionError) as caught:
            merge_inputs(definition, **{layer: {"doc": _deep(kind, depth)}})
        (issue,) = caught.value.issues
        assert issue.code == "invalid_input"
        assert f"{MAX_DATA_DEPTH} levels" in issue.message


def test_an_already_parsed_deep_row_value_is_an_input_error() -> None:
    from reqflo.engine import load_definition

    value: list = []
    for _ in range(MAX_DATA_DEPTH + 5):
        value = [value]
    definition = load_definition(TYPED.replace("TYPE", "array"))
    with pytest.raises(DefinitionError) as caught:
        merge_inputs(definition, row={"doc": value})
    assert f"{MAX_DATA_DEPTH} levels" in caught.value.issues[0].message


@pytest.mark.parametrize("depth", [MAX_DATA_DEPTH - 1, MAX_DATA_DEPTH, MAX_DATA_DEPTH + 1])
@pytest.mark.parametrize("path", ["$.b", "$.a"])
def test_the_scanner_and_the_full_parse_agree_at_the_limit(depth: int, path: str) -> None:
    from reqflo.engine.depth import TooDeep, loads_data
    from reqflo.engine.json_stream import find_singular
    from reqflo.engine.jsonpaths import Query

    body = ('{"a": ' + "[" * depth + "]" * depth + ', "b": 1}').encode()
    steps = Query(path).steps
    assert steps is not None
    try:
        full = Query(path).findall(loads_data(body, "the response body"))
    except TooDeep:
        with pytest.raises(TooDeep):
            find_singular(body, steps)
    else:
        assert find_singular(body, steps) == full
