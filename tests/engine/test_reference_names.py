"""Issue 13, kind 5: references accept the member names RFC 9535 JSONPath accepts.

`$.data.名前` works as a JSONPath; `{{ steps.s.body.data.名前 }}` must work as a reference too.
Any name RFC 9535's shorthand allows is a reference name; any other name can be written in the
bracket form (`['a b']`, with RFC 9535 escapes), and an error for such a name suggests it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, load_definition
from reqflo.engine.jsonpaths import InvalidPath, compile_query
from reqflo.engine.values import _NAME_RE, ReferenceSyntaxError, member_text, parse_reference
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

# RFC 9535: name-first = ALPHA / "_" / %x80-D7FF / %xE000-10FFFF; name-char = name-first / DIGIT.
# Characters above U+FFFF too: python-jsonpath's own lexer refuses them, ours does not.
NAME_FIRST = st.one_of(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"),
    st.characters(min_codepoint=0x80, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
NAME_CHAR = st.one_of(NAME_FIRST, st.sampled_from("0123456789"))
SHORTHAND = st.builds(lambda first, rest: first + "".join(rest), NAME_FIRST, st.lists(NAME_CHAR))


@settings(max_examples=300, deadline=None)
@given(name=SHORTHAND)
def test_every_rfc_9535_shorthand_name_is_a_reference_name(name: str) -> None:
    if name.startswith("__"):
        return  # refused on purpose: nothing may look like Python internals
    if name[-1].isspace():
        return  # trimmed with the spaces around a reference: the bracket form keeps it
    query = compile_query(f"$.data.{name}")
    ref = parse_reference(f"steps.s.body.data.{name}")

    assert ref.segments == ("s", "body", "data", name)
    assert query.findall({"data": {name: 1}}) == [1]
    assert ref.text == f"steps.s.body.data.{name}"


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(
        st.one_of(
            NAME_CHAR,
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
            st.characters(max_codepoint=0x7F, exclude_characters=".["),
        ),
        min_size=1,
    )
)
def test_a_dot_name_is_accepted_by_both_path_languages_or_by_neither(name: str) -> None:
    """One rule: a name the reference refuses after a dot, the JSONPath refuses too."""
    if name.startswith("__") or name[0].isdigit() or "}}" in name or name != name.strip():
        return  # refused by references on purpose, or a JSONPath index / trimmed by both
    if name == "*":
        return  # not a name in JSONPath but the wildcard selector; a reference has none
    try:
        parse_reference(f"steps.s.body.data.{name}")
        reference_error = None
    except ReferenceSyntaxError as exc:
        reference_error = exc
    try:
        query = compile_query(f"$.data.{name}")
        query_error = None
    except InvalidPath as exc:
        query_error = exc

    assert (reference_error is None) == (query_error is None), (reference_error, query_error)
    if query_error is None:
        assert query.findall({"data": {name: 1}}) == [1]


@settings(max_examples=300, deadline=None)
@given(name=st.text(st.characters(exclude_categories=("Cs",)), min_size=1))
def test_any_name_can_be_written_in_the_bracket_form(name: str) -> None:
    if name.startswith("__") or "}}" in name:
        return
    ref = parse_reference(f"steps.s.body{member_text(name)}")

    assert ref.segments == ("s", "body", name)
    assert parse_reference(ref.text) == ref  # the text of a reference reads back as itself


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("steps.s.body.a b.c", "a b"),
        ("steps.s.body.$x", "$x"),
        ("steps.s.body.data.it's", "it's"),
        ("inputs.a@b", "a@b"),
    ],
)
def test_an_error_for_another_name_suggests_the_bracket_form(written: str, name: str) -> None:
    with pytest.raises(ReferenceSyntaxError) as caught:
        parse_reference(written)

    message = str(caught.value)
    assert "use the bracket form " in message
    suggestion = message.split("use the bracket form ", 1)[1]
    assert name in parse_reference(suggestion).segments


# Member names with quotes, brackets, spaces, backslashes and dots among ordinary letters.
AWKWARD_NAMES = st.text(st.sampled_from("ab Z_1'\"\\.[]$@é名"), min_size=1, max_size=8)


def _suggested(written: str) -> tuple[str, ...]:
    """The segments of the text the error for `written` suggests (it must parse)."""
    with pytest.raises(ReferenceSyntaxError) as caught:
        parse_reference(written)
    message = str(caught.value)
    assert "use the bracket form " in message, message
    suggestion = message.split("use the bracket form ", 1)[1]
    assert suggestion != written
    return parse_reference(suggestion).segments


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.text(st.sampled_from("ab Z_1'\".[$@é名"), max_size=4), min_size=2),
    quote=st.sampled_from(["'", '"']),
)
@example(parts=["it", "s"], quote="'")  # ['it''s']: a quote doubled, as YAML and SQL write it
def test_a_bracketed_name_with_its_quote_doubled_gets_a_hint_that_parses(
    parts: list[str], quote: str
) -> None:
    """A name written with its quote doubled instead of RFC 9535's `\\'` is read as that
    name, and the hint writes it in a bracket form that parses back to it."""
    name = quote.join(parts)
    assume(not name.startswith("__"))  # refused whatever its form
    written = f"steps.s.body.data[{quote}{name.replace(quote, quote * 2)}{quote}].x"

    assert _suggested(written) == ("s", "body", "data", name, "x")


@settings(max_examples=300, deadline=None)
@given(name=AWKWARD_NAMES)
@example(name="it's")
@example(name="a b")
def test_a_dotted_name_that_needs_brackets_gets_a_hint_that_parses(name: str) -> None:
    """Whatever a dotted name holds that a shorthand name cannot, the hint (when the error
    gives one) is the text with that name bracketed, and it parses back to the name."""
    assume(not any(c in name for c in ".[]") and name.strip() == name)
    assume(name and not name.startswith("__"))
    written = f"steps.s.body.{name}.x"
    try:
        segments = parse_reference(written).segments
    except ReferenceSyntaxError:
        assert _suggested(written) == ("s", "body", name, "x")
    else:
        assert segments == ("s", "body", name, "x")


def test_the_issues_reference_loads_and_resolves_end_to_end(targets: Targets) -> None:
    text = """
journey:
  name: Names
  steps:
    - id: s
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json: {data: {名前: Ada, ñandú: 1, invoice-address: Main St, "a b": spaced, "it's": q}}
    - id: use
      request:
        method: GET
        url: "{{ env.base_url }}/echo"
        query:
          name: "{{ steps.s.body.json.data.名前 }}"
          bird: "{{ steps.s.body.json.data.ñandú }}"
          address: "{{ steps.s.body.json.data.invoice-address }}"
          spaced: "{{ steps.s.body.json.data['a b'] }}"
          quoted: "{{ steps.s.body.json.data['it\\\\'s'] }}"
      assertions:
        - {type: json_path, path: "$.query.name[0]", operator: equals, expected: Ada}
        - {type: json_path, path: "$.query.bird[0]", operator: equals, expected: "1"}
        - {type: json_path, path: "$.query.address[0]", operator: equals, expected: Main St}
        - {type: json_path, path: "$.query.spaced[0]", operator: equals, expected: spaced}
        - {type: json_path, path: "$.query.quoted[0]", operator: equals, expected: q}
"""
    result = run_text(text, targets.main.base_url)

    use = result.steps[1]
    assert use.status == "passed", [a.message for a in use.attempts[0].assertions]


def test_a_load_time_error_names_the_place_and_the_bracket_form() -> None:
    text = """
journey:
  name: Bad name
  steps:
    - id: s
      request: {method: GET, url: "http://api.example/{{ steps.s.body.a b }}"}
"""
    with pytest.raises(DefinitionError) as caught:
        load_definition(text)

    [issue] = caught.value.issues
    assert issue.path == "steps[0].request.url"
    assert "steps.s.body['a b']" in issue.message


def test_the_name_pattern_takes_exactly_rfc_9535_name_characters_and_hyphens() -> None:
    """The compact pattern (fast to compile) equals the plain class on every code point."""
    chars = "A-Za-z0-9_\u0080-\ud7ff\ue000-\U0010ffff"
    plain = re.compile(f"[{chars}][{chars}-]*")
    differ = [
        hex(point)
        for point in range(0x110000)
        for text in (chr(point), "a" + chr(point))
        if (plain.fullmatch(text) is None) != (_NAME_RE.fullmatch(text) is None)
    ]

    assert differ == []
