"""A redirect that turns the request into a GET sends neither the body nor the headers that
describe it; one that keeps the method keeps both.

httpx turns a 302 or 303 (any method but HEAD) and a 301 after a POST into a GET and drops the
body, `Content-Length` and `Transfer-Encoding`, but keeps `Content-Type`, `Content-Encoding` and
the rest, to the same origin or another: the target then reads a GET announcing a JSON body it
does not have. What each target actually receives is checked, over status x origin x method.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

SENT = """
journey:
  name: Redirected body
  steps:
    - id: go
      request:
        method: METHOD
        url: "{{ env.base_url }}/away?to=TO&status=STATUS"
        headers:
          Content-Type: "application/json; charset=utf-8"
          Content-Encoding: identity
          Content-Language: en
          Content-Location: /orders/1
          X-Trace: trace-1
        body: '{"order": 1}'
      assertions: [{type: status_code, expected: 200}]
"""

# What describes the body rather than the request (Fetch's request-body-header names, and
# the framing).
BODY_HEADERS = {
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-location",
    "transfer-encoding",
}


def becomes_get(status: int, method: str) -> bool:
    """httpx's rule, as browsers do: 302 and 303 turn any method but HEAD into GET, 301 a POST."""
    return status in (302, 303) or (status == 301 and method == "POST")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("to", ["self", "other"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_sends_the_body_headers_only_with_the_body(
    targets: Targets, status: int, to: str, method: str
) -> None:
    origin = targets.other if to == "other" else targets.main
    before = len(origin.state.requests)
    text = SENT.replace("METHOD", method).replace("TO", to).replace("STATUS", str(status))
    step = run_text(text, targets.main.base_url).steps[0]

    assert step.status == "passed", step.attempts[0].error
    received: dict[str, Any] = origin.state.requests[before:][-1]
    assert received["path"] == "/echo"
    names = {name.lower() for name in received["headers"]}
    echo = json.loads(step.attempts[0].response.body)  # type: ignore[union-attr,arg-type]
    if becomes_get(status, method):
        assert received["method"] == "GET"
        assert names.isdisjoint(BODY_HEADERS), names & BODY_HEADERS
        assert echo["body"] == ""
    else:
        assert received["method"] == method
        assert BODY_HEADERS - {"transfer-encoding"} <= names
        assert echo["body"] == '{"order": 1}'
    assert "x-trace" in names  # only what describes the body goes
