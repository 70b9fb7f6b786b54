"""Issue 13, kind 1: messages spell a value one known way, never with Python's repr().

repr() picks its quotes by the value and escapes characters Python finds unprintable (`\\xa0`,
`\\u200b`, `\\U000e0001`): a value that may hold a secret would then be masked only if the
redactor knew Python's spellings. Every message that shows a value — an assertion's sentence, an
operator's reason, a JSON Schema violation, an input that does not convert, a data file's
unexpected character — quotes text the way JSON does (`errors.quoted`), and the redactor masks a
secret in it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.engine.errors import quoted
from reqflo.engine.inputs import coerce
from reqflo.engine.operators import evaluate, show
from reqflo.engine.redaction import REDACTED
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

# Text that repr() spells differently from JSON: quotes, backslashes, unprintable characters.
AWKWARD = st.text(
    st.one_of(
        st.sampled_from("'\"\\\xa0\x85\u200b\u2028\U000e0001\x7f"),
        st.characters(exclude_categories=("Cs",)),
    ),
    min_size=1,
    max_size=24,
).filter(lambda text: text.strip() == text and not spells_a_number(text))


def spells_a_number(text: str) -> bool:
    try:
        numbers.parse_number(text)
    except ValueError:
        return False
    return True


def assert_spelled_as_json(message: str, value: str) -> None:
    assert quoted(value) in message or show(value, 80)[:-1] in message, message
    if repr(value) != quoted(value):
        assert repr(value) not in message, message


@settings(max_examples=200, deadline=None)
@given(value=AWKWARD)
def test_operator_reasons_and_input_errors_quote_text_as_json(value: str) -> None:
    _, reason = evaluate("less_than", value, 5)
    assert reason is not None
    assert_spelled_as_json(reason, value)

    with pytest.raises(ValueError, match="is not a whole number") as caught:
        coerce(value, "integer")
    assert_spelled_as_json(str(caught.value), value)


SCHEMA_JOURNEY = """
journey:
  name: Schema
  steps:
    - id: send
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json: {value: "{{ secrets.value }}"}
      assertions:
        - type: json_schema
          schema: {properties: {json: {properties: {value: {type: integer, enum: [1, 2]}}}}}
        - {type: json_path, path: $.json.value, operator: greater_than, expected: 1}
        - {type: json_path, path: $.json.value, operator: equals, expected: other}
"""


@settings(max_examples=40, deadline=None)
@given(value=AWKWARD.filter(lambda text: len(text) >= 4))
def test_an_assertion_message_about_a_secret_masks_it(targets: Targets, value: str) -> None:
    """The secret travels in a JSON body, comes back in a JSON response and is named by a
    schema violation, an operator's reason and an assertion's sentence: masked in each."""
    result = run_text(SCHEMA_JOURNEY, targets.main.base_url, secrets={"value": value})

    checks = result.steps[0].attempts[0].assertions
    assert [check.passed for check in checks] == [False, False, False]
    for check in checks:
        assert REDACTED in check.message, check.message
        for spelling in {value, repr(value)[1:-1], quoted(value)[1:-1], json.dumps(value)[1:-1]}:
            assert spelling not in check.message, (spelling, check.message)
