"""Singular JSONPaths found by scanning a large body select exactly what a full parse selects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reqflo.engine import http
from reqflo.engine.json_stream import StreamError, can_stream, find_singular
from reqflo.engine.jsonpaths import compile_query
from tests.engine.conftest import RunJourney

DOCUMENTS: list[Any] = [
    {"a": {"b": [1, {"c": 2.5, "item": 9}, [3, 4]]}, "item": [5], "x": None, "t": True},
    [{"item": 1}, [10, 20], 3, "s"],
    {"a": {"item": 7}, "b": [], "c": {}, "d": [[[]]]},
    {"ünï": {"k": "välue"}, "n": -1234567890123456789, "e": 1e300, "z": -0.0},
    5,
    "text",
    [],
    {},
]
PATHS = [
    "$.a", "$.a.b", "$.a.b[0]", "$.a.b[1]", "$.a.b[1].c", "$.a.b[1].item", "$.a.b[2][1]",
    "$.a.b[3]", "$.a[0]", "$.a.item", "$.item", "$.item[0]", "$.x", "$.t", "$[0]", "$[0].item",
    "$[1][1]", "$[3]", "$[4]", "$.b[0]", "$.c.z", "$.d[0][0]", "$.d[0][0][0]", "$.n",
    "$.a.b[1].c.d", "$[0][0]", "$.e", "$.z",
]  # fmt: skip


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: json.dumps(d)[:30])
def test_scan_selects_what_the_full_parse_selects(document: Any) -> None:
    body = bytearray(json.dumps(document, ensure_ascii=False).encode())
    for path in PATHS:
        query = compile_query(path)
        assert query.steps is not None
        assert can_stream(query.steps)

        found = find_singular(body, query.steps)

        expected = query.findall(document)
        assert found == expected, path
        assert [type(v) for v in found] == [type(v) for v in expected], path


def test_paths_the_scan_cannot_answer_are_left_to_the_full_parse() -> None:
    assert compile_query("$.items[*].id").steps is None
    assert compile_query("$..id").steps is None
    assert not can_stream(compile_query("$.items[-1]").steps or ())
    assert not can_stream(())


def test_a_body_broken_after_the_match_is_still_not_json() -> None:
    with pytest.raises(StreamError):
        find_singular(b'{"a": 1, "b": [1, 2', ("a",))
    with pytest.raises(StreamError):
        find_singular(b'{"a": 1} trailing', ("a",))
    # Numbers come out exact: integers beyond 64 bits, decimals beyond a float's digits.
    assert find_singular(b'{"a": 123456789012345678901234567890}', ("a",)) == [
        123456789012345678901234567890
    ]


JOURNEY = """
journey:
  name: Scanned
  steps:
    - id: read
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions:
        - {type: json_path, path: $.status, operator: equals, expected: paid}
        - {type: json_path, path: "$.items[1].sku", operator: equals, expected: mug-02}
        - {type: json_path, path: "$.items[2]", operator: not_exists}
        - {type: json_path, path: "$.items[-1].id", operator: equals, expected: 2}
        - {type: json_path, path: "$.items[*].price", operator: contains, expected: 9}
        - {type: json_path, path: $.total, operator: equals, expected: 99, soft: true}
      outputs:
        first: {from: body, path: "$.items[0]"}
    - id: broken
      request: {method: GET, url: "{{ env.base_url }}/text"}
      assertions: [{type: json_path, path: $.a, operator: exists}]
"""


def test_engine_gives_the_same_results_when_it_scans(
    run_journey: RunJourney, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = run_journey(JOURNEY)
    monkeypatch.setattr(http, "STREAM_JSON_ABOVE", 0)  # scan every body, however small

    scanned = run_journey(JOURNEY)

    def evidence(result: Any) -> list[Any]:
        return [
            (a.passed, a.actual, a.message)
            for step in result.steps
            for a in step.attempts[-1].assertions
        ] + [step.outputs for step in result.steps]

    assert evidence(scanned) == evidence(parsed)
    assert [a.passed for a in scanned.steps[0].attempts[0].assertions] == [
        True, True, True, True, True, False,
    ]  # fmt: skip
    assert scanned.steps[0].outputs == {"first": {"id": 1, "sku": "tea-01", "price": 4.5}}
    assert "not JSON" in scanned.steps[1].attempts[0].assertions[0].message
