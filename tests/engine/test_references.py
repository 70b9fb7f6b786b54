from __future__ import annotations

import json
import re
from typing import Any

from reqflo.engine import RunResult
from tests.engine.conftest import RunJourney, Target

NAMESPACES = """
journey:
  name: Namespaces
  inputs:
    - {name: count, default: 2}
    - {name: flags, default: [true, false]}
    - {name: meta, default: {tier: gold, level: 3}}
    - {name: nothing, default: null}
  variables:
    - {name: greeting, value: "hi {{ inputs.meta.tier }}"}
    - {name: nested, value: {text: "{{ variables.greeting }}!", n: "{{ inputs.count }}"}}
  steps:
    - id: first
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
      outputs:
        total: {from: body, path: $.total}
        skus: {from: body, path: "$.items[*].sku"}
        count_header: {from: header, name: X-Count}
        code: {from: status}
    - id: second
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        headers: {X-Token: "{{ secrets.token }}"}
        json:
          whole_number: "{{ inputs.count }}"
          whole_list: "{{ inputs.flags }}"
          whole_object: "{{ inputs.meta }}"
          whole_null: "{{ inputs.nothing }}"
          text: "n={{ inputs.count }} flags={{ inputs.flags }} none={{ inputs.nothing }}"
          variable: "{{ variables.greeting }}"
          nested_variable: "{{ variables.nested }}"
          variable_path: "{{ variables.nested.n }}"
          env: "{{ env.region }}"
          secret: "{{ secrets.token }}"
          output: "{{ steps.first.outputs.total }}"
          output_list: "{{ steps.first.outputs.skus }}"
          output_index: "{{ steps.first.outputs.skus[1] }}"
          header: "{{ steps.first.headers.x-count }}"
          header_output: "{{ steps.first.outputs.count_header }}"
          status: "{{ steps.first.status }}"
          status_output: "{{ steps.first.outputs.code }}"
          body_path: "{{ steps.first.body.items[0].sku }}"
          body_negative: "{{ steps.first.body.items[-1].price }}"
          run: "{{ run.id }}"
      assertions: [{type: status_code, expected: 200}]
"""


def echoed(result: RunResult, index: int = 1) -> dict[str, Any]:
    response = result.steps[index].attempts[-1].response
    assert response is not None
    assert response.body is not None
    return dict(json.loads(response.body))


def test_every_namespace_resolves_and_whole_values_keep_their_type(
    run_journey: RunJourney, target: Target
) -> None:
    result = run_journey(
        NAMESPACES, environment={"region": "eu-west"}, secrets={"token": "t0ken"}, run_id="run_42"
    )

    assert result.passed, [s.to_dict() for s in result.steps]
    sent = echoed(result)["json"]
    assert sent == {
        "whole_number": 2,
        "whole_list": [True, False],
        "whole_object": {"tier": "gold", "level": 3},
        "whole_null": None,
        "text": "n=2 flags=[true,false] none=null",
        "variable": "hi gold",
        "nested_variable": {"text": "hi gold!", "n": 2},
        "variable_path": 2,
        "env": "eu-west",
        "secret": "•••••",  # the evidence is redacted; the target got the real value
        "output": 13.5,
        "output_list": ["tea-01", "mug-02"],
        "output_index": "mug-02",
        "header": "42",
        "header_output": "42",
        "status": 200,
        "status_output": 200,
        "body_path": "tea-01",
        "body_negative": 9,
        "run": "run_42",
    }
    assert target.state.requests[-1]["headers"]["X-Token"] == "t0ken"
    assert result.steps[0].outputs == {
        "total": 13.5,
        "skus": ["tea-01", "mug-02"],
        "count_header": "42",
        "code": 200,
    }


def test_query_form_and_raw_bodies_are_rendered(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Bodies
  inputs: [{name: word, default: "a b&c"}]
  steps:
    - id: form
      request:
        method: POST
        url: "{{ env.base_url }}/echo?fixed=1"
        query: {q: "{{ inputs.word }}", many: [1, two]}
        form: {word: "{{ inputs.word }}", n: 3}
      assertions: [{type: status_code, expected: 200}]
    - id: raw
      request:
        method: PUT
        url: "{{ env.base_url }}/echo"
        headers: {Content-Type: text/plain}
        body: "say {{ inputs.word }}"
      assertions: [{type: status_code, expected: 200}]
"""
    result = run_journey(text)

    form, raw = echoed(result, 0), echoed(result, 1)
    assert form["query"] == {"fixed": ["1"], "q": ["a b&c"], "many": ["1", "two"]}
    # The artifact is canonical JSON with sorted keys, so fields go out in name order everywhere.
    assert form["body"] == "n=3&word=a+b%26c"
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert raw["body"] == "say a b&c"
    assert raw["method"] == "PUT"
    assert raw["headers"]["content-type"] == "text/plain"


def test_unresolvable_reference_at_run_time_is_a_reference_error(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Missing
  steps:
    - id: first
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
    - id: second
      request: {method: GET, url: "{{ env.base_url }}/echo/{{ steps.first.body.items[5].sku }}"}
      assertions: [{type: status_code, expected: 200}]
"""
    result = run_journey(text)

    second = result.steps[1]
    assert second.status == "error"
    assert second.error is not None
    assert second.error.kind == "reference"
    assert second.error.message == "steps.first.body.items[5].sku: no item [5]"
    assert second.final is not None
    assert second.final.request is None
    assert result.status == "error"


def test_reference_to_a_skipped_step_fails_the_always_step_clearly(
    run_journey: RunJourney,
) -> None:
    text = """
journey:
  name: Cleanup
  steps:
    - id: create
      request: {method: GET, url: "{{ env.base_url }}/status/500"}
      assertions: [{type: status_code, expected: 201}]
    - id: use
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
      outputs: {sku: {from: body, path: "$.items[0].sku"}}
    - id: cleanup
      always: true
      request: {method: DELETE, url: "{{ env.base_url }}/echo/{{ steps.use.outputs.sku }}"}
"""
    result = run_journey(text)

    assert [s.status for s in result.steps] == ["failed", "skipped", "error"]
    cleanup = result.steps[2]
    assert cleanup.error is not None
    assert cleanup.error.message == "steps.use.outputs.sku: step 'use' has not run"


def test_generators_give_fresh_values_and_variables_keep_theirs_for_the_run(
    run_journey: RunJourney,
) -> None:
    text = """
journey:
  name: Generated
  variables:
    - {name: email, value: "user-{{ $uuid }}@example.com"}
  steps:
    - id: first
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json:
          email: "{{ variables.email }}"
          a: "{{ $uuid }}"
          b: "{{ $uuid }}"
          ts: "{{ $timestamp }}"
          now: "{{ $now }}"
          n: "{{ $random_int }}"
      assertions: [{type: status_code, expected: 200}]
    - id: second
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json: {email: "{{ variables.email }}"}
      assertions:
        - {type: json_path, path: $.json.email, operator: equals, expected: "{{ variables.email }}"}
"""
    first_run = run_journey(text)
    second_run = run_journey(text)

    assert first_run.passed
    sent = echoed(first_run, 0)["json"]
    assert sent["a"] != sent["b"]
    assert re.fullmatch(r"user-[0-9a-f-]{36}@example\.com", sent["email"])
    assert echoed(first_run, 1)["json"]["email"] == sent["email"]
    assert echoed(second_run, 0)["json"]["email"] != sent["email"]
    assert isinstance(sent["ts"], int)
    assert isinstance(sent["n"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sent["now"])


def test_an_output_that_finds_nothing_is_an_output_error_and_retried(
    run_journey: RunJourney,
) -> None:
    text = """
journey:
  name: Outputs
  steps:
    - id: first
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
      retries: {count: 1, delay_ms: 0}
      outputs:
        missing: {from: body, path: $.nope}
        header: {from: header, name: X-Absent}
"""
    result = run_journey(text)

    step = result.steps[0]
    assert step.status == "error"
    assert [a.retry_reason for a in step.attempts] == ["output error", None]
    assert step.error is not None
    assert step.error.kind == "output"
    assert step.error.message == (
        "output 'header': the response has no header 'X-Absent'; "
        "output 'missing': $.nope matched nothing in the body"
    )
