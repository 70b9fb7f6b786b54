from __future__ import annotations

import textwrap

from reqflo.engine import Issue, load_definition, run_check

JOURNEY = """
journey:
  name: Checkout
  inputs:
    - {name: email, required: true}
    - {name: quantity, default: 1}
    - {name: unused_one, default: x}
  variables:
    - {name: auth, value: "Bearer {{ steps.login.outputs.token }}"}
  steps:
    - id: login
      request:
        method: POST
        url: "{{ env.base_url }}/login"
        headers: {X-Api-Key: "{{ secrets.api_key }}", X-Region: "{{ env.region }}"}
        json: {email: "{{ inputs.email }}", n: "{{ inputs.quantity }}"}
      assertions: [{type: status_code, expected: 200}]
      outputs:
        token: {from: body, path: $.token, secret: true}
    - id: order
      request:
        method: GET
        url: "{{ env.base_url }}/orders"
        headers: {Authorization: "{{ variables.auth }}"}
"""


def codes(issues: list[Issue]) -> set[tuple[str, str, str]]:
    return {(issue.severity, issue.code, issue.path) for issue in issues}


def check(text: str, **context: object) -> list[Issue]:
    return run_check(load_definition(textwrap.dedent(text)), **context)  # type: ignore[arg-type]


def test_valid_journey_without_context_only_warns() -> None:
    issues = check(JOURNEY)

    assert codes(issues) == {
        ("warning", "unused_input", "inputs[2]"),
        ("warning", "no_assertions", "steps[1]"),
    }


def test_context_checks_find_missing_input_secret_base_url_and_env_value() -> None:
    issues = check(JOURNEY, inputs={"quantity": 2}, environment={}, secret_names={"api_kee"})

    errors = {(i.code, i.path) for i in issues if i.severity == "error"}
    assert errors == {
        ("missing_input", "inputs[0]"),
        ("missing_secret", "steps[0].request.headers.X-Api-Key"),
        ("no_base_url", "steps[0].request.url"),
        ("no_base_url", "steps[1].request.url"),
        ("unknown_env", "steps[0].request.headers.X-Region"),
    }
    missing_secret = next(i for i in issues if i.code == "missing_secret")
    assert missing_secret.message == (
        "Missing secret api_key: no secret of that name is provided; did you mean 'api_kee'?"
    )


def test_provided_context_passes() -> None:
    issues = check(
        JOURNEY,
        inputs={"email": "a@example.com", "quantity": 1},
        environment={"base_url": "http://x", "region": "eu"},
        secret_names={"api_key"},
    )

    assert [i for i in issues if i.severity == "error"] == []


def test_unknown_references_are_errors_with_suggestions() -> None:
    issues = check(
        """
        journey:
          name: J
          inputs: [{name: email}]
          variables: [{name: auth, value: x}]
          steps:
            - id: login
              request: {method: GET, url: "http://x/{{ inputs.emial }}/{{ variables.auht }}"}
              outputs: {token: {from: body, path: $.token}}
            - id: next
              request:
                method: GET
                url: "http://x/{{ steps.logn.status }}/{{ steps.login.outputs.tokn }}"
        """
    )

    messages = sorted(str(i) for i in issues if i.code == "unknown_reference")
    assert messages == [
        "steps[0].request.url: unknown input 'emial'; did you mean 'email'?",
        "steps[0].request.url: unknown variable 'auht'; did you mean 'auth'?",
        "steps[1].request.url: step 'login' has no output 'tokn'; did you mean 'token'?",
        "steps[1].request.url: unknown step 'logn'; did you mean 'login'?",
    ]


def test_reference_to_a_later_step_is_an_error_also_through_variables() -> None:
    issues = check(
        """
        journey:
          name: J
          variables:
            - {name: auth, value: "Bearer {{ variables.token }}"}
            - {name: token, value: "{{ steps.login.outputs.token }}"}
          steps:
            - id: early
              request:
                method: GET
                url: "http://x/{{ steps.login.status }}"
                headers: {Authorization: "{{ variables.auth }}"}
            - id: login
              request: {method: GET, url: "http://x/{{ steps.login.status }}"}
              outputs: {token: {from: body, path: $.token}}
        """
    )

    later = sorted(str(i) for i in issues if i.code == "later_step")
    assert later == [
        "steps[0].request.headers.Authorization: variable 'auth' uses "
        "'steps.login.outputs.token', which is not run before this step",
        "steps[0].request.url: 'steps.login.status' refers to a later step; a step sees only "
        "outputs of earlier steps",
        "steps[1].request.url: 'steps.login.status' refers to this step itself; a step sees "
        "only outputs of earlier steps",
    ]


def test_variable_cycles_are_errors() -> None:
    issues = check(
        """
        journey:
          name: J
          variables:
            - {name: a, value: "{{ variables.b }}"}
            - {name: b, value: "x{{ variables.a }}"}
          steps:
            - id: s
              request: {method: GET, url: "http://x/{{ variables.a }}"}
              assertions: [{type: status_code, expected: 200}]
        """
    )

    assert codes(issues) == {
        ("error", "variable_cycle", "variables[0].value"),
        ("error", "variable_cycle", "variables[1].value"),
    }


def test_undeclared_provided_inputs_and_unused_variables_warn() -> None:
    issues = check(
        """
        journey:
          name: J
          inputs: [{name: email, default: a}]
          variables: [{name: spare, value: x}]
          steps:
            - id: s
              request: {method: GET, url: "http://x/{{ inputs.email }}"}
              assertions: [{type: status_code, expected: 200}]
        """,
        inputs={"email": "a", "emial": "b"},
    )

    assert [str(i) for i in issues] == [
        "inputs.emial: 'emial' is not an input of this journey; did you mean 'email'?",
        "variables[0]: variable 'spare' is never used",
    ]


def test_a_suggestion_worked_out_once_per_run_stays_the_one_for_its_own_choices() -> None:
    # Each suggestion is worked out once per (kind, word) in a run (1,499 uses of a removed
    # step cost 1.7 s of difflib): the same word against other choices still gets its own.
    issues = check(
        """
        journey:
          name: Memo
          steps:
            - id: alpha
              request: {method: GET, url: "http://x/a"}
              outputs: {token: {from: body, path: $.t}}
            - id: beta
              request: {method: GET, url: "http://x/b"}
              outputs: {tokens: {from: body, path: $.t}}
            - id: c1
              request: {method: GET, url: "http://x/{{ steps.alpah.outputs.token }}"}
            - id: c2
              request: {method: GET, url: "http://x/{{ steps.alpah.outputs.token }}"}
            - id: c3
              request: {method: GET, url: "http://x/{{ steps.alpha.outputs.tokn }}"}
            - id: c4
              request: {method: GET, url: "http://x/{{ steps.beta.outputs.tokn }}"}
            - id: c5
              request: {method: GET, url: "http://x/{{ variables.alpah }}"}
        """
    )
    errors = [i.message for i in issues if i.severity == "error"]
    assert errors.count("unknown step 'alpah'; did you mean 'alpha'?") == 2
    assert "step 'alpha' has no output 'tokn'; did you mean 'token'?" in errors
    assert "step 'beta' has no output 'tokn'; did you mean 'tokens'?" in errors
    assert "unknown variable 'alpah'" in errors  # no variables: no step id offered
