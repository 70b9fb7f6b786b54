from __future__ import annotations

import json
import textwrap

import pytest

from reqflo.engine import DefinitionError, Issue, load_definition

MINIMAL = """
journey:
  name: Checkout flow
  steps:
    - id: login
      request: {method: GET, url: "http://127.0.0.1:1/x"}
"""


def issues_of(text: str) -> list[Issue]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(textwrap.dedent(text))
    return caught.value.issues


def messages_of(text: str) -> list[str]:
    return [str(issue) for issue in issues_of(text)]


def test_minimal_document_gets_defaults_filled_in() -> None:
    definition = load_definition(MINIMAL)

    assert definition.name == "Checkout flow"
    assert definition.slug == "checkout-flow"
    assert definition.steps[0].name == "login"
    step = definition.document["steps"][0]
    assert step["always"] is False
    assert step["request"]["method"] == "GET"
    assert step["request"]["headers"] == {}


def test_json_document_loads_like_yaml() -> None:
    document = {
        "journey": {
            "name": "Json",
            "steps": [{"id": "a", "request": {"method": "get", "url": "http://x/"}}],
        }
    }

    definition = load_definition(json.dumps(document))

    assert definition.document["steps"][0]["request"]["method"] == "GET"


def test_unknown_key_is_an_error_with_a_suggestion() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: GET, url: "http://x/", headrs: {}}
        """
    )

    assert messages == [
        "steps[0].request.headrs: unknown request key 'headrs'; did you mean 'headers'?"
    ]


def test_bad_operator_names_the_path_and_suggests_the_nearest() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: GET, url: "http://x/"}
              assertions:
                - {type: status_code, expected: 200}
                - {type: json_path, path: $.status, operator: equal, expected: paid}
        """
    )

    assert messages == [
        "steps[0].assertions[1].operator: unknown operator 'equal'; did you mean 'equals'?"
    ]


def test_all_errors_of_a_document_are_reported_at_once() -> None:
    issues = issues_of(
        """
        journey:
          name: J
          tagz: [x]
          steps:
            - id: Login Step
              request: {method: FETCH, url: "http://x/"}
              assertions:
                - {type: statuscode, expected: 200}
                - {type: json_path, path: "$.[", operator: exists}
                - {type: header, name: x, operator: matches, expected: "("}
                - {type: status_code, expected: 99}
                - {type: json_schema, schema: {type: objec}}
              retries: {count: -1}
            - id: b
              request: {method: GET}
              outputs:
                token: {from: bdy, path: $.token}
        """
    )

    assert {(issue.path, issue.code) for issue in issues} == {
        ("tagz", "unknown_key"),
        ("steps[0].id", "invalid_format"),
        ("steps[0].request.method", "invalid_choice"),
        ("steps[0].assertions[0].type", "unknown_assertion"),
        ("steps[0].assertions[1].path", "invalid_jsonpath"),
        ("steps[0].assertions[2].expected", "invalid_regex"),
        ("steps[0].assertions[3].expected", "invalid_status"),
        ("steps[0].assertions[4].schema.type", "invalid_schema"),
        ("steps[0].retries.count", "out_of_range"),
        ("steps[1].request.url", "missing_key"),
        ("steps[1].outputs.token.from", "invalid_choice"),
    }
    assert all(issue.severity == "error" for issue in issues)


def test_suggestions_cover_assertion_types_and_types() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: GET, url: "http://x/"}
              assertions:
                - {type: statuscode, expected: 200}
                - {type: json_path, path: $.a, operator: is_type, expected: strng}
        """
    )

    assert messages == [
        "steps[0].assertions[0].type: unknown assertion type 'statuscode'; "
        "did you mean 'status_code'?",
        "steps[0].assertions[1].expected: 'strng' is not a type; use one of string, number, "
        "integer, boolean, array, object, null; did you mean 'string'?",
    ]


def test_step_ids_must_be_unique() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - {id: a, request: {method: GET, url: "http://x/"}}
            - {id: a, request: {method: GET, url: "http://x/"}}
        """
    )

    assert messages == ["steps[1].id: 'a' is already used by steps[0]"]


def test_yaml_syntax_error_names_line_and_column() -> None:
    issues = issues_of("journey:\n  name: J\n  steps: [\n    - id: a\n")

    assert len(issues) == 1
    assert issues[0].code == "yaml_syntax"
    assert "line 4, column" in issues[0].message


def test_json_syntax_error_names_line_and_column() -> None:
    issues = issues_of('{"journey": {"name": "J",\n "steps": [}}')

    assert issues[0].code == "json_syntax"
    assert "line 2, column 12" in issues[0].message


def test_duplicate_yaml_keys_are_errors_not_silently_merged() -> None:
    issues = issues_of("journey:\n  name: J\n  name: K\n  steps: []\n")

    assert issues[0].code == "yaml_syntax"
    assert "duplicate key 'name'" in issues[0].message
    assert "line 3" in issues[0].message


def test_document_without_journey_root_explains_the_wrapper() -> None:
    issues = issues_of("name: J\nsteps: []\n")

    assert [issue.code for issue in issues] == ["unknown_key", "unknown_key", "missing_key"]
    assert "put name, inputs and steps under it" in issues[-1].message


def test_only_one_request_body_kind_is_allowed() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: POST, url: "http://x/", json: {a: 1}, body: "raw"}
        """
    )

    assert messages == [
        "steps[0].request.body: use only one of json, form and body (found json and body)"
    ]


def test_operator_without_expected_value_and_expected_on_exists_are_errors() -> None:
    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: GET, url: "http://x/"}
              assertions:
                - {type: json_path, path: $.a, operator: exists, expected: 1}
                - {type: header, name: x, operator: contains}
                - {type: response_time, operator: contains, expected: 10}
        """
    )

    assert messages == [
        "steps[0].assertions[0].expected: 'exists' takes no expected value",
        "steps[0].assertions[1].expected: 'contains' needs an expected value",
        "steps[0].assertions[2].operator: operator 'contains' does not apply here; use one of "
        "greater_or_equal, greater_than, less_or_equal, less_than",
    ]


def test_yaml_dates_stay_text_and_non_json_values_are_refused() -> None:
    definition = load_definition(
        textwrap.dedent(
            """
            journey:
              name: J
              steps:
                - id: a
                  request: {method: POST, url: "http://x/", json: {day: 2026-01-31}}
            """
        )
    )
    assert definition.document["steps"][0]["request"]["json"] == {"day": "2026-01-31"}

    messages = messages_of(
        """
        journey:
          name: J
          steps:
            - id: a
              request: {method: POST, url: "http://x/", json: {1: one, n: .nan}}
        """
    )
    assert messages == ["steps[0].request.json: mapping keys must be strings (quote numeric keys)"]


def test_status_code_defaults_to_in_for_lists_and_classes_are_accepted() -> None:
    definition = load_definition(
        textwrap.dedent(
            """
            journey:
              name: J
              steps:
                - id: a
                  request: {method: GET, url: "http://x/"}
                  assertions:
                    - {type: status_code, expected: [200, "2xx"]}
                    - {type: json_path, path: $.a}
                    - {type: header, name: x, expected: y}
                    - {type: response_time, expected: 100}
            """
        )
    )

    operators = [a["operator"] for a in definition.document["steps"][0]["assertions"]]
    assert operators == ["in", "exists", "equals", "less_than"]


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    text = "\n".join(lines) + "\njourney: {name: J, steps: [], bomb: *a8}\n"

    issues = issues_of(text)

    assert [issue.code for issue in issues] == ["too_large"]


def test_yaml_anchors_for_reuse_still_work() -> None:
    definition = load_definition(
        textwrap.dedent(
            """
            journey:
              name: J
              steps:
                - id: a
                  request: &get {method: GET, url: "http://x/"}
                - id: b
                  request: *get
            """
        )
    )

    assert definition.document["steps"][1]["request"]["url"] == "http://x/"
