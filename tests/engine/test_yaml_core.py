"""Journey YAML is read with the YAML 1.2 core schema: `on`, `off`, `yes`, `no` are text.

PyYAML reads YAML 1.1, where a header `X-Feature: on` is the boolean true and a JSON body key
`off:` the Python `False`. Every YAML 1.1 boolean and null-ish spelling is a case here, as a key
and as a value, wherever a journey expects text (headers, query, form, JSON bodies, input
defaults) and sent to a real loopback target; the editor's typed fields and the pages' YAML
writer read and write the same way (`reqflo.engine.yaml_core`).
"""

from __future__ import annotations

import json

import pytest

from reqflo.engine import load_definition
from reqflo.engine.yaml_core import load
from reqflo.journeys.documents import render_yaml
from reqflo.journeys.editor.state import text_to_value
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

# YAML 1.1's booleans (https://yaml.org/type/bool.html, PyYAML's list and the y/n forms), and
# text YAML 1.1 reads as another type: sexagesimal, octal, a date.
YAML11_WORDS = [
    *[
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "y",
        "Y",
        "n",
        "N",
    ],
    "1:30",
    "2026-01-31",
    "0b101",
]

JOURNEY = """
journey:
  name: Words
  inputs:
    - {{name: w, default: {word}}}
  steps:
    - id: send
      request:
        method: POST
        url: "{{{{ env.base_url }}}}/echo"
        headers: {{X-Word: {word}, {key_word}: {word}}}
        query: {{{word}: {word}}}
        json: {{{word}: {word}, nested: [{word}, {{{word}: {word}}}], w: "{{{{ inputs.w }}}}"}}
"""


def _key(word: str) -> str:
    return f"X-{word}" if word[0].isalpha() else "X-Other"


@pytest.mark.parametrize("word", YAML11_WORDS)
def test_a_yaml_11_word_is_text_as_a_key_and_as_a_value(targets: Targets, word: str) -> None:
    text = JOURNEY.format(word=word, key_word=_key(word))
    request = load_definition(text).document["steps"][0]["request"]
    assert request["headers"] == {"X-Word": word, _key(word): word}
    assert request["query"] == {word: word}
    assert request["json"] == {word: word, "nested": [word, {word: word}], "w": "{{ inputs.w }}"}

    step = run_text(text, targets.main.base_url).steps[0]
    assert step.status == "passed", step.attempts[0]
    echo = json.loads(step.attempts[0].response.body)  # type: ignore[union-attr]
    assert echo["headers"]["x-word"] == word
    assert echo["query"] == {word: [word]}
    assert echo["json"] == {word: word, "nested": [word, {word: word}], "w": word}

    assert text_to_value(word) == word  # the editor's typed field
    assert load(render_yaml({"journey": {"word": word}})) == {"journey": {"word": word}}


def test_core_schema_types_are_kept_and_keys_are_names() -> None:
    data = load(
        """
true: yes
null: ~
~: null
flags: [true, False, TRUE, null, Null, ~, ""]
numbers: [012, 0o12, 0x1F, 1e5, .5, -.inf, 100.10]
"""
    )
    assert data["true"] == "yes"
    assert data["null"] is None
    assert data["~"] is None
    assert data["flags"] == [True, False, True, None, None, None, ""]
    twelve, octal, hexadecimal, exponent, half, minus_inf, decimal = data["numbers"]
    assert (twelve, str(twelve)) == (12, "012")  # decimal in YAML 1.2, written as typed
    assert (octal, hexadecimal) == (10, 31)
    assert (exponent, str(exponent)) == (100000, "1e5")
    assert (half, minus_inf) == (0.5, float("-inf"))
    assert str(decimal) == "100.10"
