from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, compile_definition, load_definition, merge_inputs

DEFINITION = load_definition(
    textwrap.dedent(
        """
        journey:
          name: J
          inputs:
            - {name: email, required: true}
            - {name: quantity, default: 1}
            - {name: express, default: false}
            - {name: price, type: number}
            - {name: meta, type: object}
            - {name: note, default: plain}
          steps:
            - id: s
              request:
                method: POST
                url: "http://x/"
                json:
                  - "{{ inputs.email }}{{ inputs.quantity }}{{ inputs.express }}"
                  - "{{ inputs.price }}{{ inputs.meta }}{{ inputs.note }}"
              assertions: [{type: status_code, expected: 200}]
        """
    )
)


def test_precedence_is_default_then_case_then_set_then_row() -> None:
    merged = merge_inputs(
        DEFINITION,
        case={"email": "case@example.com", "note": "from case", "quantity": 2},
        overrides={"note": "from set", "quantity": 3},
        row={"quantity": 4},
    )

    assert merged == {
        "email": "case@example.com",
        "quantity": 4,
        "express": False,
        "note": "from set",
    }


def test_text_values_are_coerced_to_the_declared_or_default_type() -> None:
    merged = merge_inputs(
        compile_definition(DEFINITION),
        overrides={"quantity": "7", "express": "yes", "price": "4.50", "meta": '{"a": [1]}'},
        row={"email": "row@example.com", "note": "12"},
    )

    assert merged["quantity"] == 7
    assert merged["express"] is True
    assert merged["price"] == 4.5
    assert merged["meta"] == {"a": [1]}
    assert merged["note"] == "12"


def test_values_that_cannot_be_coerced_are_all_reported() -> None:
    with pytest.raises(DefinitionError) as caught:
        merge_inputs(DEFINITION, overrides={"quantity": "many", "express": "perhaps"})

    assert [str(issue) for issue in caught.value.issues] == [
        'inputs.quantity: "many" is not a whole number',
        'inputs.express: "perhaps" is not true or false',
    ]


def test_undeclared_names_are_kept_for_the_run_check_to_warn_about() -> None:
    merged = merge_inputs(DEFINITION, row={"email": "a@example.com", "case": "first row"})

    assert merged["case"] == "first row"


SECRET_TYPED = """
journey:
  name: Secret typed inputs
  inputs:
    - {name: pin, type: integer, secret: true}
    - {name: amount, type: number, secret: true}
    - {name: flag, type: boolean, secret: true}
    - {name: creds, type: object, secret: true}
    - {name: keys, type: array, secret: true}
  steps:
    - id: a
      request: {method: GET, url: "https://api.example.test/"}
"""


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["pin", "amount", "flag", "creds", "keys"]),
    # A digit and a capital letter: no stretch of the message's own words can match by chance.
    value=st.from_regex(r"[A-Za-z0-9 {}\[\]\",:]{8,30}", fullmatch=True)
    .filter(lambda s: any(c.isdigit() for c in s) and any(c.isupper() for c in s))
    .map(lambda s: f"notnum-{s}"),
    layer=st.sampled_from(["case", "overrides", "row"]),
    compiled=st.booleans(),
)
def test_a_secret_input_that_does_not_convert_is_named_but_never_quoted(
    name: str, value: str, layer: str, compiled: bool
) -> None:
    definition = load_definition(SECRET_TYPED)
    source = compile_definition(definition) if compiled else definition
    with pytest.raises(DefinitionError) as error:
        merge_inputs(source, **{layer: {name: value}})  # type: ignore[arg-type]

    [issue] = error.value.issues
    assert issue.path == f"inputs.{name}"
    assert "secret, not shown" in issue.message
    for spelling in (value, value.strip(), repr(value), value[7:]):
        assert spelling not in str(error.value)


def test_a_plain_input_that_does_not_convert_is_still_quoted() -> None:
    definition = load_definition(SECRET_TYPED.replace("secret: true", "secret: false"))
    with pytest.raises(DefinitionError) as error:
        merge_inputs(definition, overrides={"pin": "notnum-QvXk7Lm4Tz"})
    assert '"notnum-QvXk7Lm4Tz" is not a whole number' in str(error.value)
