"""A response body as HTML whose every value names its JSONPath (the editor's Send panel)."""

from __future__ import annotations

import html
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine import REDACTED, numbers
from reqflo.engine.jsonpaths import compile_query
from reqflo.runs.json_tree import json_tree_html

_PICK = re.compile(r'data-path="([^"]*)" data-value="([^"]*)"')

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(documents)
def test_every_value_of_a_json_body_names_a_jsonpath_that_finds_it(document: Any) -> None:
    text = numbers.dumps(document, ensure_ascii=False)
    tree = json_tree_html(text)
    assert tree is not None
    for path, value in _PICK.findall(tree):
        found = compile_query(html.unescape(path)).findall(numbers.loads(text))
        assert found == [numbers.loads(html.unescape(value))], path
    # The page shows the same JSON the body holds (tags off, entities back).
    shown = html.unescape(re.sub(r"<[^>]+>", "", tree))
    assert numbers.loads(shown) == numbers.loads(text)


def test_markup_in_a_body_is_escaped_and_masked_values_offer_nothing() -> None:
    tree = json_tree_html('{"<b>x</b>": "<script>alert(1)</script>", "key": "' + REDACTED + '"}')
    assert tree is not None
    assert "<script>" not in tree
    assert "<b>" not in tree
    assert tree.count("data-path") == 1  # the masked value is not offered


def test_a_body_that_is_not_json_is_left_to_the_text_view() -> None:
    assert json_tree_html("plain words") is None
    assert json_tree_html("") is None
