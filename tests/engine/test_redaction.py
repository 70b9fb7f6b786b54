from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import httpx

from reqflo.engine import REDACTED, Redactor, RunResult
from tests.engine.conftest import RunJourney, Target

SECRET = 'Sk-"live"&p@ss/wörd 42'
PASSWORD = "Pw-Otter-7781"
TOKEN = f"tok-{PASSWORD}-issued"

JOURNEY = """
journey:
  name: Secrets everywhere
  inputs:
    - {name: password, required: true, secret: true}
    - {name: email, default: someone@example.com}
  variables:
    - {name: auth, value: "Bearer {{ steps.login.outputs.token }}"}
    - {name: signature, value: "sig={{ secrets.api_key }};v=1"}
  steps:
    - id: peek
      request:
        method: POST
        url: "{{ env.base_url }}/login"
        json: {email: "{{ inputs.email }}", password: "{{ inputs.password }}"}
      assertions: [{type: status_code, expected: 200}]
    - id: login
      request:
        method: POST
        url: "{{ env.base_url }}/login"
        json: {email: "{{ inputs.email }}", password: "{{ inputs.password }}"}
      assertions: [{type: json_path, path: $.token, operator: exists}]
      outputs:
        token: {from: body, path: $.token, secret: true}
        email: {from: body, path: $.user.email}
    - id: use
      request:
        method: POST
        url: "{{ env.base_url }}/echo?key={{ secrets.api_key }}"
        headers:
          Authorization: "{{ variables.auth }}"
          X-Signature: "{{ variables.signature }}"
          X-Token-Copy: "{{ steps.login.outputs.token }}"
        json:
          key: "{{ secrets.api_key }}"
          note: "key is {{ secrets.api_key }}"
          token: "{{ steps.login.outputs.token }}"
      assertions:
        - {type: body_contains, expected: "{{ steps.login.outputs.token }}"}
        - {type: json_path, path: $.json.key, operator: equals, expected: "{{ secrets.api_key }}"}
        - type: json_path
          path: $.json.token
          operator: equals
          expected: "{{ steps.login.outputs.token }}"
        - type: json_path
          path: $.json.key
          operator: equals
          expected: "not {{ secrets.api_key }}"
          soft: true
      outputs:
        echoed_key: {from: body, path: $.json.key}
"""


def leaks(result: RunResult, values: list[str]) -> list[str]:
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    forms = set()
    for value in values:
        forms |= {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        forms.add(str(httpx.URL("http://x/", params={"k": value})).split("k=", 1)[1])
        forms.add(str(httpx.URL(f"http://x/?k={value}")).split("k=", 1)[1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return sorted(form for form in forms if form in text)


def test_no_secret_value_reaches_the_result_in_any_form(
    run_journey: RunJourney, target: Target
) -> None:
    result = run_journey(
        JOURNEY, inputs={"password": PASSWORD}, secrets={"api_key": SECRET}, label=PASSWORD
    )

    assert [s.status for s in result.steps] == ["passed", "passed", "passed"]
    assert leaks(result, [SECRET, PASSWORD, TOKEN, f"Bearer {TOKEN}"]) == []
    # The target really received the values.
    sent = target.state.requests[-1]["headers"]
    assert sent["X-Token-Copy"] == TOKEN
    # Non-ASCII header text goes out as UTF-8 (http.server reads it as latin-1).
    assert sent["X-Signature"].encode("latin-1").decode() == f"sig={SECRET};v=1"


def test_masked_places_show_the_redaction_mark(run_journey: RunJourney) -> None:
    result = run_journey(JOURNEY, inputs={"password": PASSWORD}, secrets={"api_key": SECRET})

    peek, login, use = result.steps
    assert result.inputs == {"password": REDACTED, "email": "someone@example.com"}
    assert login.outputs == {"token": REDACTED, "email": "someone@example.com"}
    assert use.outputs == {"echoed_key": REDACTED}
    # Captured in step 2, the token is masked in step 1's earlier evidence too.
    assert TOKEN not in (peek.attempts[0].response.body or "")  # type: ignore[union-attr]
    request = use.attempts[0].request
    assert request is not None
    assert request.headers["Authorization"] == REDACTED
    assert request.headers["X-Signature"] == REDACTED
    # The URL is recorded as built with the secret's place masked (the rest is no secret).
    assert request.url.endswith(f"/echo?key={REDACTED}")
    assert SECRET not in request.url
    soft = use.attempts[0].assertions[3]
    assert soft.message == f'expected $.json.key equals "{REDACTED}", got "{REDACTED}"'


def test_error_messages_are_redacted(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Bad port
  steps:
    - id: call
      request: {method: GET, url: "http://127.0.0.1:{{ secrets.port }}/"}
"""
    result = run_journey(text, secrets={"port": "no-port-Walrus"})

    error = result.steps[0].error
    assert error is not None
    assert error.kind == "invalid_request"
    assert REDACTED in error.message
    assert leaks(result, ["no-port-Walrus"]) == []


def test_sensitive_headers_are_masked_even_without_secrets(run_journey: RunJourney) -> None:
    text = """
journey:
  name: Headers
  steps:
    - id: login
      request: {method: POST, url: "{{ env.base_url }}/login", json: {password: plain}}
    - id: who
      request:
        method: GET
        url: "{{ env.base_url }}/whoami"
        headers: {Authorization: Basic abc, X-API-Key: k1, Proxy-Authorization: p}
"""
    result = run_journey(text)

    login_response = result.steps[0].attempts[0].response
    who_request = result.steps[1].attempts[0].request
    assert login_response is not None
    assert who_request is not None
    assert login_response.headers["Set-Cookie"] == REDACTED
    for name in ("Authorization", "X-API-Key", "Proxy-Authorization", "Cookie"):
        assert who_request.headers[name] == REDACTED


def test_redactor_masks_longest_secret_first_and_deeply() -> None:
    redactor = Redactor(["abc", "abcdef"])
    redactor.add(12345)

    assert redactor.redact("x abcdef y abc z") == f"x {REDACTED} y {REDACTED} z"
    assert redactor.redact_obj({"k": ["abc", 12345, 7], "abc": True}) == {
        "k": [REDACTED, REDACTED, 7],
        REDACTED: True,
    }
    assert redactor.headers({"Cookie": "c", "X-Other": "abc!"}) == {
        "Cookie": REDACTED,
        "X-Other": f"{REDACTED}!",
    }
    assert not Redactor()
    assert Redactor().redact("abc") == "abc"
