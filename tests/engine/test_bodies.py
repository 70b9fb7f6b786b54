from __future__ import annotations

import json
import subprocess
import sys

from reqflo.engine import RunOptions
from tests.engine.conftest import BIG_JSON_RECORDS, RunJourney, Target

FIFTY_MB = 50 * 1024 * 1024

MEASURE = """
import json, sys

def peak_kb():
    # The high-water mark of this process's own memory. Not ru_maxrss: Linux carries that over
    # from the parent across fork and exec, so it would report a big pytest worker's size.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

from reqflo.engine import compile_definition, load_definition, run_artifact
base_url, assertion, path = sys.argv[1], sys.argv[2], sys.argv[3]
text = f'''
journey:
  name: Big
  steps:
    - id: big
      request: {{method: GET, url: "{base_url}{path}"}}
      assertions: [{{type: status_code, expected: 200}}, {assertion}]
'''
artifact = compile_definition(load_definition(text))
before = peak_kb()
result = run_artifact(artifact, inputs={}, environment={}, secrets={})
after = peak_kb()
response = result.steps[0].attempts[0].response
print(json.dumps({
    "status": result.status, "before_kb": before, "peak_kb": after,
    "body_size": response.body_size, "truncated": response.body_truncated,
    "kept": len(response.body),
}))
"""


def measure(target: Target, assertion: str, *, path: str = "/big") -> dict[str, int | str | bool]:
    """Run a one-step journey in a fresh interpreter and return its peak memory and evidence."""
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, target.base_url, assertion, path],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(completed.stdout))


def test_50_mb_response_is_counted_without_being_kept(target: Target) -> None:
    numbers = measure(target, "{type: response_time, operator: less_than, expected: 30000}")

    assert numbers["status"] == "passed"
    assert numbers["body_size"] == FIFTY_MB
    assert numbers["truncated"] is True
    assert numbers["kept"] == 256 * 1024
    # Only the evidence preview stays in memory when no check needs the body.
    assert int(numbers["peak_kb"]) - int(numbers["before_kb"]) < 30 * 1024


def test_50_mb_response_checked_in_full_stays_under_300_mb(target: Target) -> None:
    numbers = measure(target, "{type: body_contains, expected: xxxx}")

    assert numbers["status"] == "passed"
    assert numbers["body_size"] == FIFTY_MB
    assert int(numbers["peak_kb"]) < 300 * 1024


def test_body_over_the_memory_cap_fails_body_checks_with_a_reason(
    run_journey: RunJourney,
) -> None:
    text = """
journey:
  name: Capped
  steps:
    - id: big
      request: {method: GET, url: "{{ env.base_url }}/big?bytes=3000000"}
      assertions: [{type: body_contains, expected: x}]
"""
    result = run_journey(text, options=RunOptions(max_response_bytes=1024 * 1024))

    [assertion] = result.steps[0].attempts[0].assertions
    assert not assertion.passed
    assert "larger than the in-memory limit" in assertion.message
    assert result.steps[0].attempts[0].response.body_size == 3_000_000  # type: ignore[union-attr]


def test_evidence_body_is_capped_with_the_true_size_recorded(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Capped
  steps:
    - id: big
      request: {method: GET, url: "{{ env.base_url }}/big?bytes=300000"}
      assertions: [{type: status_code, expected: 200}]
"""
    result = run_journey(text)

    response = result.steps[0].attempts[0].response
    assert response is not None
    assert (response.body_size, response.body_truncated) == (300_000, True)
    assert response.body == "x" * (256 * 1024)


def test_non_utf8_body_is_recorded_with_replacement_and_noted(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Latin
  steps:
    - id: undeclared
      request: {method: GET, url: "{{ env.base_url }}/latin1"}
      assertions: [{type: body_contains, expected: caf}]
    - id: declared
      request: {method: GET, url: "{{ env.base_url }}/latin1?declared=1"}
      assertions: [{type: body_contains, expected: café olé}]
"""
    result = run_journey(text)

    assert result.passed
    undeclared = result.steps[0].attempts[0].response
    declared = result.steps[1].attempts[0].response
    assert undeclared is not None
    assert declared is not None
    assert undeclared.body == "caf\ufffd ol\ufffd"
    assert undeclared.body_encoding == "utf-8 (invalid bytes replaced)"
    assert declared.body == "café olé"
    assert declared.body_encoding == "latin-1"


def test_connection_closed_mid_response_is_an_incomplete_body(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Closed
  steps:
    - id: partial
      request: {method: GET, url: "{{ env.base_url }}/close"}
      assertions: [{type: status_code, expected: 200}]
"""
    result = run_journey(text)

    step = result.steps[0]
    assert step.status == "error"
    assert step.error is not None
    assert step.error.kind == "incomplete_body"
    response = step.attempts[0].response
    assert response is not None
    assert response.status == 200
    assert step.attempts[0].assertions == []


def test_50_mb_json_with_singular_jsonpaths_stays_under_300_mb(target: Target) -> None:
    # Parsed whole, this document of ~600k records costs about 400 MB of Python objects.
    last = BIG_JSON_RECORDS - 1
    numbers = measure(
        target,
        f"{{type: json_path, path: $.count, operator: equals, expected: {BIG_JSON_RECORDS}}}, "
        f"{{type: json_path, path: '$.items[{last}].id', operator: equals, "
        f"expected: '{last:08d}'}}, "
        "{type: json_path, path: $.last.item, operator: equals, expected: end}",
        path="/bigjson",
    )

    assert numbers["status"] == "passed", numbers
    assert numbers["body_size"] > FIFTY_MB * 0.99
    assert int(numbers["peak_kb"]) < 300 * 1024
