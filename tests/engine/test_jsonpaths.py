from __future__ import annotations

import re
from typing import Any

import jsonpath
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reqflo.engine.jsonpaths import (
    CHEAP_KEY_PATTERN,
    LIBRARY_KEY_PATTERN,
    REQFLO_KEY_PATTERN,
    InvalidPath,
    Query,
    compile_query,
)

DATA = {
    "a": {"b": [10, {"c": "deep"}, None]},
    "list": [1, 2, 3],
    "n": None,
    "x_y": True,
}
PATHS = [
    "$",
    "$.a",
    "$.a.b[0]",
    "$.a.b[1].c",
    "$.a.b[-1]",
    "$.a.b[-4]",
    "$.a.b[7]",
    "$.list.a",
    "$.a[0]",
    "$.n",
    "$.n.more",
    "$.x_y",
    "$.missing",
    "$.list[*]",
    "$..c",
    "$.list[?@ > 1]",
    "$['a']['b'][0]",
]


@pytest.mark.parametrize("path", PATHS)
def test_query_matches_the_rfc_9535_engine(path: str) -> None:
    reference = jsonpath.JSONPathEnvironment(strict=True).compile(path).findall(DATA)

    assert Query(path).findall(DATA) == reference


def test_invalid_paths_are_refused_even_when_they_look_simple() -> None:
    with pytest.raises(InvalidPath, match="expected a shorthand selector"):
        Query("$.a.")


@pytest.mark.parametrize("path", ["$[01]", "$.a[-0]", "$[9007199254740992]", "$[-00]"])
def test_indexes_rfc_9535_forbids_are_refused_without_the_fast_path(path: str) -> None:
    with pytest.raises(InvalidPath):
        Query(path)


NAMES = st.sampled_from(["a", "b", "true", "null", "length", "keys", "_", "x_y", "A1", "in"])
INDEXES = st.sampled_from(
    ["0", "1", "-1", "2", "-3", "01", "-0", "00", "10", "9007199254740991", "9007199254740992"]
)
SEGMENTS = st.lists(
    st.one_of(NAMES.map(lambda name: f".{name}"), INDEXES.map(lambda index: f"[{index}]")),
    max_size=4,
)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
DOCUMENTS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)),
    max_leaves=12,
)


@given(segments=SEGMENTS, data=DOCUMENTS)
def test_singular_paths_agree_with_the_rfc_9535_engine(segments: list[str], data: Any) -> None:
    """The fast path accepts exactly what python-jsonpath accepts and selects the same nodes."""
    # python-jsonpath reads a str argument as JSON text, not as a string document.
    assume(not isinstance(data, str))
    path = "$" + "".join(segments)
    try:
        reference = jsonpath.JSONPathEnvironment(strict=True).compile(path).findall(data)
    except jsonpath.JSONPathError:
        with pytest.raises(InvalidPath):
            Query(path)
        return

    assert Query(path).findall(data) == reference


def _membership(pattern: str) -> list[str]:
    """Which characters `pattern` takes as a name's first character and as a later one.

    Every code point c appears as "c " and "ac ": the matches list each decision in order, so two
    patterns give equal lists exactly when they accept the same characters in both places.
    """
    text = "".join(f"{chr(c)} a{chr(c)} " for c in range(0x110000))
    return re.findall(pattern, text)


def test_the_cheap_key_pattern_accepts_exactly_what_the_library_pattern_accepts() -> None:
    assert _membership(CHEAP_KEY_PATTERN) == _membership(LIBRARY_KEY_PATTERN)


def test_our_key_pattern_accepts_every_non_ascii_character_but_surrogates() -> None:
    # RFC 9535 name-first / name-char, plus "-" after the first character.
    spelled_as_classes = (
        "[A-Za-z_\u0080-\ud7ff\ue000-\U0010ffff][A-Za-z0-9_\u0080-\ud7ff\ue000-\U0010ffff-]*"
    )

    assert _membership(REQFLO_KEY_PATTERN) == _membership(spelled_as_classes)


def test_the_library_still_parses_names_after_its_pattern_is_swapped() -> None:
    data = {"名前": {"x\U0001f600y": 1, "a-b": 2}, "items": [{"sku": "tea", "n": 3}]}

    assert jsonpath.lex.Lexer.key_pattern in (CHEAP_KEY_PATTERN, LIBRARY_KEY_PATTERN)
    assert Query("$.名前['x\U0001f600y']").findall(data) == [1]
    assert Query("$.名前.x\U0001f600y").findall(data) == [1]
    assert Query("$.items[?@.sku == 'tea'].n").findall(data) == [3]
    assert jsonpath.findall("$.名前.a-b", data) == [2]
    with pytest.raises(InvalidPath):
        Query("$.名前.\ud800")


@pytest.mark.parametrize("path", ["", " ", "$.", "$[", "$.a[", "$..", "$[?@.a=="])
def test_a_broken_or_empty_path_is_an_invalid_path_with_a_message(path: str) -> None:
    """Never another error: python-jsonpath's own message fails to print for some inputs
    (the empty text: it quotes the source past its end), which surfaced as a traceback."""
    with pytest.raises(InvalidPath, match=r"\S"):
        compile_query(path)


@given(st.text(alphabet="$.[]?@'\"*:,()-=!<> a0", max_size=12))
def test_any_text_compiles_or_is_an_invalid_path(path: str) -> None:
    message = None
    try:
        compile_query(path)
    except InvalidPath as exc:
        message = str(exc)
    assert message is None or message.strip()
