from __future__ import annotations

import pytest

from reqflo.engine import DefinitionError, load_definition
from reqflo.engine.values import Ref, ReferenceSyntaxError, parse_reference, parse_template


def test_reference_parses_names_and_indexes() -> None:
    ref = parse_reference(" steps.login.body.items[0]['unit-price'] ")

    assert ref == Ref("steps", ("login", "body", "items", 0, "unit-price"))
    assert ref.kind == "step"
    assert ref.text == "steps.login.body.items[0].unit-price"


def test_whole_value_template_is_marked_and_interpolation_is_split() -> None:
    whole = parse_template("{{ inputs.quantity }}")
    mixed = parse_template("Bearer {{ secrets.key }}!")

    assert whole.whole == Ref("inputs", ("quantity",))
    assert mixed.whole is None
    assert mixed.parts == ("Bearer ", Ref("secrets", ("key",)), "!")


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("''.__class__", "it must start with one of inputs, variables, env, secrets, steps, run"),
        ("steps.x.__dict__", "names starting with '__' are not allowed"),
        ("inputs.a | attr('x')", "filters ('|') are not supported"),
        ("inputs.a.__class__.__mro__", "names starting with '__' are not allowed"),
        ("inputs.a()", "unexpected '()'"),
        ("config.items()", "it must start with one of"),
        ("inputs['__globals__']", "names starting with '__' are not allowed"),
        ("inputs.a + 1", "unexpected ' + 1'"),
        ("lipsum.__globals__", "it must start with one of"),
        ("secrets.key.value", "a secret reference is exactly 'secrets.NAME'"),
        ("run.env", "the run namespace offers only 'run.id'"),
        ("steps.login.response", "use steps.ID.outputs.NAME"),
        ("steps.login.status.code", "steps.ID.status has no further path"),
        ("inputs", "name what to use"),
        ("", "empty reference"),
        (
            "$uid",
            "is not a generator; use one of $uuid, $timestamp, $now, $random_int; "
            "did you mean 'uuid'?",
        ),
        ("$uuid.x", "is not a generator"),
    ],
)
def test_anything_but_a_plain_reference_is_rejected(expression: str, reason: str) -> None:
    with pytest.raises(ReferenceSyntaxError) as caught:
        parse_reference(expression)

    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ steps.x.__dict__ }}",
        "{{ inputs.a | attr }}",
        "{{ self.__init__.__globals__ }}",
        "{% for x in y %}{{ x }}{% endfor %}{{ cycler.__init__ }}",
    ],
)
def test_template_injection_is_rejected_when_the_definition_loads(template: str) -> None:
    text = (
        "journey:\n  name: J\n  steps:\n    - id: a\n"
        f'      request: {{method: GET, url: "http://x/", headers: {{X: "{template}"}}}}\n'
    )

    with pytest.raises(DefinitionError) as caught:
        load_definition(text)

    [issue] = caught.value.issues
    assert issue.path == "steps[0].request.headers.X"
    assert issue.code == "invalid_reference"


def test_unclosed_braces_are_reported() -> None:
    with pytest.raises(ReferenceSyntaxError, match="never closed"):
        parse_template("{{ inputs.a }} and {{ inputs.b")
