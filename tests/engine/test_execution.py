from __future__ import annotations

import json
import re
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

from reqflo.engine import RunOptions, StepResult
from tests.engine.conftest import RunJourney, Target


def flaky_journey(key: str, *, fail: int, count: int, assertions: str = "") -> str:
    assertions = assertions or "[{type: status_code, expected: 200}]"
    return f"""
journey:
  name: Flaky
  steps:
    - id: poll
      request: {{method: GET, url: "{{{{ env.base_url }}}}/flaky?key={key}&fail={fail}"}}
      assertions: {assertions}
      retries: {{count: {count}, delay_ms: 30}}
"""


def test_retry_records_each_attempt_until_it_passes(run_journey: RunJourney) -> None:
    key = uuid.uuid4().hex
    started = time.perf_counter()

    result = run_journey(flaky_journey(key, fail=2, count=3))

    step = result.steps[0]
    assert step.status == "passed"
    assert [a.outcome for a in step.attempts] == ["failed", "failed", "passed"]
    assert [a.number for a in step.attempts] == [1, 2, 3]
    assert [a.retry_reason for a in step.attempts] == ["assertion failed", "assertion failed", None]
    assert [a.response.status for a in step.attempts if a.response] == [503, 503, 200]
    assert time.perf_counter() - started >= 0.06  # two delays of 30 ms
    assert step.logs[0] == "attempt 1: assertion failed; retrying in 30 ms"


def test_exhausted_retries_fail_the_step_with_every_attempt_kept(
    run_journey: RunJourney, target: Target
) -> None:
    key = uuid.uuid4().hex

    result = run_journey(flaky_journey(key, fail=5, count=2))

    step = result.steps[0]
    assert step.status == "failed"
    assert len(step.attempts) == 3
    assert target.attempts(key) == 3
    assert step.attempts[-1].retry_reason is None
    assert result.status == "failed"


def test_a_5xx_is_retried_even_without_assertions(run_journey: RunJourney) -> None:
    key = uuid.uuid4().hex

    result = run_journey(flaky_journey(key, fail=1, count=1, assertions="[]"))

    step = result.steps[0]
    assert [a.retry_reason for a in step.attempts] == ["status 503", None]
    assert step.status == "passed"


def test_step_timeout_becomes_a_timeout_error_and_is_retried(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Slow
  steps:
    - id: slow
      request: {method: GET, url: "{{ env.base_url }}/hang?ms=1500"}
      timeout_ms: 150
      retries: {count: 1, delay_ms: 0}
      assertions: [{type: status_code, expected: 200}]
"""
    started = time.perf_counter()

    result = run_journey(text)

    step = result.steps[0]
    assert step.status == "error"
    assert [a.error.kind for a in step.attempts if a.error] == ["timeout", "timeout"]
    assert step.attempts[0].retry_reason == "timeout error"
    assert "no response within 150 ms" in step.attempts[0].error.message  # type: ignore[union-attr]
    assert time.perf_counter() - started < 1.2


def test_timeout_bounds_the_whole_response_not_each_read(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Drip
  steps:
    - id: drip
      request: {method: GET, url: "{{ env.base_url }}/drip"}
      timeout_ms: 350
"""
    started = time.perf_counter()

    result = run_journey(text)

    error = result.steps[0].error
    assert error is not None
    assert error.kind == "timeout"
    assert error.message == "the response was not complete within 350 ms"
    assert time.perf_counter() - started < 0.8


def test_default_timeout_comes_from_run_options(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Slow
  steps:
    - id: slow
      request: {method: GET, url: "{{ env.base_url }}/hang?ms=1000"}
"""
    result = run_journey(text, options=RunOptions(default_timeout_ms=100))

    assert result.steps[0].error is not None
    assert result.steps[0].error.kind == "timeout"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def transport_error(run_journey: RunJourney, url: str) -> tuple[str, str]:
    text = f"""
journey:
  name: Broken
  steps:
    - id: call
      request: {{method: GET, url: "{url}"}}
      timeout_ms: 2000
      assertions: [{{type: status_code, expected: 200}}]
"""
    result = run_journey(text)
    error = result.steps[0].error
    assert error is not None
    assert result.steps[0].status == "error"
    return error.kind, error.message


def test_connection_refused_is_a_connect_error(run_journey: RunJourney) -> None:
    kind, message = transport_error(run_journey, f"http://127.0.0.1:{free_port()}/x")

    assert kind == "connect"
    assert message.startswith("could not connect")


def test_unknown_host_is_a_dns_error(run_journey: RunJourney) -> None:
    kind, message = transport_error(run_journey, "http://reqflo-test.invalid/x")

    assert kind == "dns"
    assert message.startswith("could not resolve the host")


def test_tls_against_a_plain_http_server_is_a_tls_error(
    run_journey: RunJourney, target: Target
) -> None:
    kind, _ = transport_error(run_journey, target.base_url.replace("http://", "https://") + "/json")

    assert kind == "tls"


def test_a_response_that_is_not_http_is_a_protocol_error(
    run_journey: RunJourney, target: Target
) -> None:
    kind, message = transport_error(run_journey, f"{target.base_url}/garbage")

    assert kind == "protocol"
    assert message.startswith("invalid HTTP exchange")


def test_a_redirect_loop_is_a_protocol_error(run_journey: RunJourney, target: Target) -> None:
    kind, message = transport_error(run_journey, f"{target.base_url}/redirect?n=30")

    assert kind == "protocol"
    assert message.startswith("too many redirects")


def test_unsendable_url_is_an_invalid_request(run_journey: RunJourney) -> None:
    kind, _ = transport_error(run_journey, "ftp://127.0.0.1/file")

    assert kind == "invalid_request"


def test_redirects_are_followed_and_each_hop_recorded(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Redirects
  steps:
    - id: follow
      request: {method: GET, url: "{{ env.base_url }}/redirect?n=2"}
      assertions: [{type: json_path, path: $.status, operator: equals, expected: paid}]
    - id: stay
      follow_redirects: false
      request: {method: GET, url: "{{ env.base_url }}/redirect?n=1"}
      assertions:
        - {type: status_code, expected: 302}
        - {type: header, name: location, operator: equals, expected: /json}
"""
    result = run_journey(text)

    assert result.passed
    follow = result.steps[0].attempts[0].response
    assert follow is not None
    assert [(hop["status"], hop["location"]) for hop in follow.redirects] == [
        (302, "/redirect?n=1"),
        (302, "/json"),
    ]
    assert follow.redirects[0]["url"].endswith("/redirect?n=2")
    stay = result.steps[1].attempts[0].response
    assert stay is not None
    assert stay.redirects == []


def test_cookies_persist_across_steps_of_a_run_but_not_across_runs(
    run_journey: RunJourney,
) -> None:
    text = """
journey:
  name: Cookies
  inputs: [{name: login, default: true}]
  steps:
    - id: login
      request: {method: POST, url: "{{ env.base_url }}/login", json: {password: pw}}
      assertions: [{type: status_code, expected: 200}]
      outputs: {session: {from: cookie, name: shop_session}}
    - id: who
      request: {method: GET, url: "{{ env.base_url }}/whoami"}
      assertions:
        - {type: json_path, path: $.cookie, operator: equals, expected: shop_session=s3ss10n}
"""
    lone = """
journey:
  name: No cookies
  steps:
    - id: who
      request: {method: GET, url: "{{ env.base_url }}/whoami"}
      assertions: [{type: json_path, path: $.cookie, operator: equals, expected: null}]
"""
    first = run_journey(text)
    second = run_journey(lone)

    assert first.passed, first.steps[1].failed_assertions
    assert first.steps[0].outputs["session"] == "s3ss10n"
    assert second.passed


def test_steps_after_a_failure_are_skipped_but_always_steps_run(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Skips
  steps:
    - id: ok
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
    - id: broken
      request: {method: GET, url: "{{ env.base_url }}/status/404"}
      assertions: [{type: status_code, expected: 200}]
    - id: later
      request: {method: GET, url: "{{ env.base_url }}/json"}
    - id: cleanup
      always: true
      request: {method: DELETE, url: "{{ env.base_url }}/echo"}
      assertions: [{type: status_code, expected: 200}]
"""
    seen: list[StepResult] = []

    result = run_journey(text, on_step=seen.append)

    assert [s.status for s in result.steps] == ["passed", "failed", "skipped", "passed"]
    assert result.steps[2].skip_reason == "skipped because step 'broken' did not pass"
    assert result.steps[2].attempts == []
    assert result.steps[3].always
    assert [s.step_id for s in seen] == ["ok", "broken", "later", "cleanup"]
    assert result.status == "failed"


def test_idempotency_key_is_sent_when_opted_in_and_stable_across_retries(
    run_journey: RunJourney, target: Target
) -> None:
    key = uuid.uuid4().hex
    text = f"""
journey:
  name: Idempotent
  idempotency_key: true
  steps:
    - id: pay
      request: {{method: POST, url: "{{{{ env.base_url }}}}/flaky?key={key}&fail=1"}}
      assertions: [{{type: status_code, expected: 200}}]
      retries: {{count: 1, delay_ms: 0}}
    - id: plain
      idempotency_key: false
      request: {{method: POST, url: "{{{{ env.base_url }}}}/echo"}}
"""
    result = run_journey(text, run_id="run_abc")

    sent = [r["headers"] for r in target.state.requests if r["path"] == "/flaky"][-2:]
    assert [h.get("Idempotency-Key") for h in sent] == ["run_abc:pay", "run_abc:pay"]
    echoed = json.loads(result.steps[1].attempts[0].response.body)  # type: ignore[union-attr,arg-type]
    assert "idempotency-key" not in echoed["headers"]


def test_a_journey_with_100_steps_chains_outputs(run_journey: RunJourney) -> None:
    steps = [
        """
    - id: s0
      request: {method: POST, url: "{{ env.base_url }}/echo", json: {n: 0}}
      assertions: [{type: json_path, path: $.json.n, operator: equals, expected: 0}]
      outputs: {n: {from: body, path: $.json.n}}"""
    ]
    for i in range(1, 100):
        steps.append(
            f"""
    - id: s{i}
      request:
        method: POST
        url: "{{{{ env.base_url }}}}/echo"
        json: {{n: "{{{{ steps.s{i - 1}.outputs.n }}}}", i: {i}}}
      assertions: [{{type: json_path, path: $.json.i, operator: equals, expected: {i}}}]
      outputs: {{n: {{from: body, path: $.json.i}}}}"""
        )
    text = "journey:\n  name: Hundred\n  steps:" + "".join(steps) + "\n"
    started = time.perf_counter()

    result = run_journey(text)

    assert result.passed
    assert len(result.steps) == 100
    assert result.steps[-1].outputs == {"n": 99}
    last_sent = json.loads(result.steps[-1].attempts[0].request.body)  # type: ignore[union-attr,arg-type]
    assert last_sent == {"i": 99, "n": 98}
    assert time.perf_counter() - started < 10


def test_timestamps_are_utc_iso_8601_with_milliseconds(run_journey: RunJourney) -> None:
    before = datetime.now(UTC)

    result = run_journey(
        """
journey:
  name: Stamp
  steps:
    - id: one
      request: {method: GET, url: "{{ env.base_url }}/json"}
      assertions: [{type: status_code, expected: 200}]
"""
    )

    stamps = [result.started_at, result.steps[0].attempts[0].started_at, result.finished_at]
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    assert stamps == sorted(stamps)


def test_a_stop_request_ends_the_retries_and_sends_nothing_more(
    run_journey: RunJourney, target: Target
) -> None:
    key = uuid.uuid4().hex
    asked: list[int] = []

    def stop_requested() -> bool:
        asked.append(target.attempts(key))
        return target.attempts(key) >= 2  # the run was cancelled during the second attempt

    result = run_journey(
        flaky_journey(key, fail=5, count=4), options=RunOptions(stop_requested=stop_requested)
    )

    step = result.steps[0]
    assert target.attempts(key) == 2  # attempts 3 to 5 were never sent
    assert [a.number for a in step.attempts] == [1, 2]
    assert step.status == "failed"
    assert step.logs[-1] == "attempt 3 not sent: the run was stopped"
    assert asked  # asked before each retry, not only once
