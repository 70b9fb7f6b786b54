"""The JSON API reads and writes numbers as written and refuses deep nesting with its limit.

Issue 13's kinds "numbers pass through float" and "every error is a result": a journey
document pushed with `100.10`, `1e5` or 20 digits comes back with those digits (the parser and
the renderer are the engine's, ``reqflo.api.json_io``); a body nested 30,000 deep is a 400
naming the limit, not a parse error.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import RequestFactory
from hypothesis import given

from reqflo.api.json_io import ExactParser, ExactRenderer
from reqflo.engine.depth import MAX_DATA_DEPTH, MAX_DEPTH
from tests.api.conftest import ApiClient
from tests.runs.test_exact_display import JSON_NUMBERS

NUMBERS = ["100.10", "1e5", "-0", "-0.0", "12345678901234567890.12345", "1E-7", "0.1", "7"]


@given(JSON_NUMBERS)
def test_the_parser_and_renderer_keep_every_number_as_written(number: str) -> None:
    body = f'{{"a": {number}, "b": [{number}, {{"c": {number}}}]}}'
    request = RequestFactory().post("/", body, content_type="application/json")
    parsed = ExactParser().parse_body(request)
    written = ExactRenderer().render(request, parsed, response_status=200)
    assert written == body


def _document(numbers: list[str]) -> str:
    body = ", ".join(f'"n{i}": {n}' for i, n in enumerate(numbers))
    return (
        '{"document": {"journey": {"name": "Numbers", "inputs": [{"name": "amount", '
        f'"default": {numbers[0]}}}], "steps": [{{"id": "pay", "request": {{"method": "POST", '
        f'"url": "http://127.0.0.1:9/pay", "json": {{{body}}}}}}}]}}}}}}'
    )


def test_a_pushed_document_comes_back_with_its_numbers_as_written(
    api_as: Callable[[str], ApiClient],
) -> None:
    client = api_as("editor")
    pushed = client.post("/journeys", _document(NUMBERS))
    assert pushed.status_code == 201, pushed.content
    slug = pushed.json()["journey"]
    for path in (f"/journeys/{slug}/versions/1", f"/journeys/{slug}/artifact"):
        text = client.get(path).content.decode()
        for index, number in enumerate(NUMBERS):
            assert f'"n{index}": {number}' in text or f'"n{index}":{number}' in text, path
    version = client.get(f"/journeys/{slug}/versions/1").content.decode()
    assert '"default": 100.10' in version


def test_a_document_nested_past_any_limit_is_refused_naming_the_limit(
    api_as: Callable[[str], ApiClient],
) -> None:
    client = api_as("editor")
    for depth in (30_000, MAX_DATA_DEPTH + 5):
        deep = "[" * depth + "]" * depth
        answer = client.post("/journeys", _document(["1"]).replace('"n0": 1', f'"n0": {deep}'))
        assert answer.status_code == 400
        body = answer.json()
        assert body["code"] == "invalid_request"
        assert [issue["code"] for issue in body["issues"]] == ["too_deep"]
        assert f"{MAX_DEPTH} levels" in body["message"]
        assert "line 1, column" in body["message"]
    # Deeper than a document may be, shallow enough to read: the definition's own issue.
    deep = "[" * 80 + "]" * 80
    answer = client.post("/journeys", _document(["1"]).replace('"n0": 1', f'"n0": {deep}'))
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid_definition"
    assert [issue["code"] for issue in body["issues"]] == ["too_deep"]
    assert f"{MAX_DEPTH} levels is the limit" in json.dumps(body)
