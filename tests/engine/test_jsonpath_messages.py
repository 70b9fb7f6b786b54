"""A JSONPath the parser refuses is named in words, never in the lexer's token names (a
verifier read "expected 'TOKEN_ROOT', found 'TOKEN_NAME'" for `items`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine.jsonpaths import InvalidPath, compile_query

_piece = st.sampled_from(
    ["$", ".", "..", "[", "]", "a", "b c", "'x'", "*", "?", "@", "0", ":", " "]
)


@given(source=st.lists(_piece, min_size=1, max_size=6).map("".join))
def test_a_refused_jsonpath_is_named_in_words(source: str) -> None:
    try:
        compile_query(source)
    except InvalidPath as error:
        message = str(error)
        assert "TOKEN" not in message
        assert message.strip()
        if not source.startswith("$"):
            assert message.startswith("a JSONPath starts with $")


@pytest.mark.parametrize(("source", "words"), [("items", "$.items"), ("foo.bar", "$.foo.bar")])
def test_a_path_without_its_root_shows_the_path_with_it(source: str, words: str) -> None:
    with pytest.raises(InvalidPath, match=rf"like \{words}"):
        compile_query(source)
