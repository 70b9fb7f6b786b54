from __future__ import annotations

import pytest

from reqflo.engine import AssertionResult, RunResult
from tests.engine.conftest import RunJourney


def one_assertion(run_journey: RunJourney, assertion: str, *, path: str = "/json") -> RunResult:
    text = f"""
journey:
  name: Assertion
  inputs:
    - {{name: status, default: paid}}
    - {{name: count, default: 2}}
  steps:
    - id: check
      request: {{method: GET, url: "{{{{ env.base_url }}}}{path}"}}
      assertions:
        - {assertion}
"""
    return run_journey(text)


def only_result(result: RunResult) -> AssertionResult:
    [assertion] = result.steps[0].attempts[-1].assertions
    return assertion


CASES = [
    ("{type: json_path, path: $.status, operator: equals, expected: paid}", True),
    ("{type: json_path, path: $.status, operator: equals, expected: pending}", False),
    ("{type: json_path, path: $.count, operator: equals, expected: 2.0}", True),
    ("{type: json_path, path: $.paid, operator: equals, expected: 1}", False),
    ("{type: json_path, path: $.status, operator: not_equals, expected: pending}", True),
    ("{type: json_path, path: $.status, operator: not_equals, expected: paid}", False),
    ("{type: json_path, path: $.name, operator: contains, expected: Alice}", True),
    ("{type: json_path, path: $.name, operator: contains, expected: Bob}", False),
    ("{type: json_path, path: '$.items[*].sku', operator: contains, expected: tea-01}", True),
    ("{type: json_path, path: '$.items[*].sku', operator: contains, expected: pot-03}", False),
    ("{type: json_path, path: $.name, operator: not_contains, expected: Bob}", True),
    ("{type: json_path, path: $.name, operator: not_contains, expected: Alice}", False),
    ("{type: json_path, path: $.status, operator: exists}", True),
    ("{type: json_path, path: $.missing, operator: exists}", False),
    ("{type: json_path, path: $.note, operator: exists}", True),
    ("{type: json_path, path: $.missing, operator: not_exists}", True),
    ("{type: json_path, path: $.status, operator: not_exists}", False),
    ("{type: json_path, path: $.total, operator: greater_than, expected: 10}", True),
    ("{type: json_path, path: $.total, operator: greater_than, expected: 13.5}", False),
    ("{type: json_path, path: $.count, operator: greater_or_equal, expected: 2}", True),
    ("{type: json_path, path: $.count, operator: greater_or_equal, expected: 3}", False),
    ("{type: json_path, path: $.total, operator: less_than, expected: 20}", True),
    ("{type: json_path, path: $.total, operator: less_than, expected: 10}", False),
    ("{type: json_path, path: $.count, operator: less_or_equal, expected: 2}", True),
    ("{type: json_path, path: $.count, operator: less_or_equal, expected: 1}", False),
    ("{type: json_path, path: $.paid, operator: less_than, expected: 5}", False),
    ("{type: json_path, path: $.name, operator: matches, expected: '^Alice \\w+$'}", True),
    ("{type: json_path, path: $.name, operator: matches, expected: '^Bob'}", False),
    ("{type: json_path, path: $.status, operator: in, expected: [paid, pending]}", True),
    ("{type: json_path, path: $.status, operator: in, expected: [refunded]}", False),
    ("{type: json_path, path: $.status, operator: not_in, expected: [refunded]}", True),
    ("{type: json_path, path: $.status, operator: not_in, expected: [paid]}", False),
    ("{type: json_path, path: $.status, operator: is_type, expected: string}", True),
    ("{type: json_path, path: $.total, operator: is_type, expected: number}", True),
    ("{type: json_path, path: $.count, operator: is_type, expected: integer}", True),
    ("{type: json_path, path: $.paid, operator: is_type, expected: boolean}", True),
    ("{type: json_path, path: $.items, operator: is_type, expected: array}", True),
    ("{type: json_path, path: $, operator: is_type, expected: object}", True),
    ("{type: json_path, path: $.note, operator: is_type, expected: 'null'}", True),
    ("{type: json_path, path: $.paid, operator: is_type, expected: number}", False),
    ("{type: json_path, path: $.total, operator: is_type, expected: integer}", False),
    ("{type: json_path, path: $.items, operator: length_equals, expected: 2}", True),
    ("{type: json_path, path: $.name, operator: length_equals, expected: 13}", True),
    ("{type: json_path, path: $.items, operator: length_equals, expected: 3}", False),
    ("{type: json_path, path: $.tags, operator: is_empty}", True),
    ("{type: json_path, path: $.empty, operator: is_empty}", True),
    ("{type: json_path, path: $.items, operator: is_empty}", False),
    ("{type: json_path, path: $.items, operator: not_empty}", True),
    ("{type: json_path, path: $.tags, operator: not_empty}", False),
    ("{type: json_path, path: $.status, operator: equals, expected: '{{ inputs.status }}'}", True),
    ("{type: json_path, path: $.count, operator: equals, expected: '{{ inputs.count }}'}", True),
    ("{type: status_code, expected: 200}", True),
    ("{type: status_code, expected: 201}", False),
    ("{type: status_code, expected: [201, 200]}", True),
    ("{type: status_code, expected: 2xx}", True),
    ("{type: status_code, expected: [4xx, 5xx]}", False),
    ("{type: status_code, operator: not_equals, expected: 500}", True),
    ("{type: status_code, operator: not_in, expected: [2xx]}", False),
    ("{type: status_code, operator: less_than, expected: 300}", True),
    ("{type: header, name: content-type, operator: contains, expected: application/json}", True),
    ("{type: header, name: Content-Type, operator: equals, expected: text/html}", False),
    ("{type: header, name: x-multi, operator: equals, expected: 'a, b'}", True),
    ("{type: header, name: x-count, operator: greater_than, expected: 40}", True),
    ("{type: header, name: x-count, operator: equals, expected: 42}", True),
    ("{type: header, name: x-missing, operator: not_exists}", True),
    ("{type: header, name: x-missing, operator: exists}", False),
    ("{type: body_contains, expected: tea-01}", True),
    ("{type: body_contains, expected: coffee}", False),
    ("{type: response_time, operator: less_than, expected: 5000}", True),
    ("{type: response_time, operator: less_than, expected: 0}", False),
    ("{type: json_schema, schema: {type: object, required: [status, items]}}", True),
    ("{type: json_schema, schema: {type: object, required: [token]}}", False),
    ("{type: json_schema, schema: {properties: {count: {type: string}}}}", False),
]


@pytest.mark.parametrize(("assertion", "passes"), CASES)
def test_assertion_outcome(run_journey: RunJourney, assertion: str, passes: bool) -> None:
    result = one_assertion(run_journey, assertion)

    recorded = only_result(result)
    assert recorded.passed is passes, recorded.message
    assert result.steps[0].status == ("passed" if passes else "failed")


def test_every_operator_is_covered_passing_and_failing() -> None:
    from reqflo.engine.operators import OPERATORS

    for operator in OPERATORS:
        outcomes = {passes for text, passes in CASES if f"operator: {operator}," in text + ","}
        outcomes |= {passes for text, passes in CASES if f"operator: {operator}}}" in text}
        assert outcomes == {True, False}, operator


def test_failed_assertion_records_expected_actual_and_a_sentence(run_journey: RunJourney) -> None:
    result = one_assertion(
        run_journey, "{type: json_path, path: $.status, operator: equals, expected: pending}"
    )

    recorded = only_result(result)
    assert (recorded.expected, recorded.actual) == ("pending", "paid")
    assert recorded.target == "$.status"
    assert recorded.message == 'expected $.status equals "pending", got "paid"'


def test_missing_value_and_incomparable_values_explain_themselves(
    run_journey: RunJourney,
) -> None:
    missing = only_result(
        one_assertion(run_journey, "{type: json_path, path: $.nope, operator: exists}")
    )
    boolean = only_result(
        one_assertion(
            run_journey, "{type: json_path, path: $.paid, operator: less_than, expected: 5}"
        )
    )

    assert missing.message == "expected $.nope exists, got no value (the JSONPath matched nothing)"
    assert missing.actual is None
    assert missing.actual_missing == "path_not_found"
    assert (
        boolean.message
        == "expected $.paid is less than 5, got true (true is a boolean, not a number)"
    )


def test_json_schema_failure_lists_the_violations(run_journey: RunJourney) -> None:
    recorded = only_result(
        one_assertion(
            run_journey, "{type: json_schema, schema: {properties: {count: {type: string}}}}"
        )
    )

    assert recorded.actual == ['$.count: 2 is not of type "string"']
    assert recorded.expected == {"properties": {"count": {"type": "string"}}}


def test_body_equals_compares_json_structurally_and_text_exactly(run_journey: RunJourney) -> None:
    structural = one_assertion(
        run_journey,
        "{type: body_equals, expected: {status: paid, total: 13.5, count: 2, paid: true, "
        "note: null, name: Alice Example, tags: [], empty: '', items: [{id: 1, sku: tea-01, "
        "price: 4.5}, {id: 2, sku: mug-02, price: 9}]}}",
    )
    text_same = one_assertion(
        run_journey, "{type: body_equals, expected: hello plain world}", path="/text"
    )
    text_other = one_assertion(
        run_journey, "{type: body_equals, expected: hello world}", path="/text"
    )

    assert structural.passed
    assert text_same.passed
    assert not text_other.passed


def test_soft_assertion_is_reported_but_does_not_fail_the_step(run_journey: RunJourney) -> None:
    result = one_assertion(
        run_journey,
        "{type: json_path, path: $.status, operator: equals, expected: pending, soft: true}",
    )

    recorded = only_result(result)
    assert recorded.soft
    assert not recorded.passed
    assert result.steps[0].status == "passed"
    assert result.steps[0].failed_assertions == [recorded]


def test_all_assertions_of_a_step_are_evaluated_after_a_failure(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Many
  steps:
    - id: check
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions:
        - {type: status_code, expected: 404}
        - {type: json_path, path: $.status, operator: equals, expected: nope}
        - {type: body_contains, expected: tea-01}
"""
    result = run_journey(text)

    outcomes = [a.passed for a in result.steps[0].attempts[-1].assertions]
    assert outcomes == [False, False, True]


def test_json_path_on_a_non_json_body_fails_with_a_reason(run_journey: RunJourney) -> None:
    result = one_assertion(
        run_journey, "{type: json_path, path: $.a, operator: exists}", path="/text"
    )

    recorded = only_result(result)
    assert not recorded.passed
    assert recorded.message.startswith("$.a: the response body is not JSON")
