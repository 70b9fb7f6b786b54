"""The YAML of a journey written a step at a time (the editor's YAML view of 1,500 steps wrote
all of them again on every switch) is the text written whole, for any document."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.journeys.documents import STEP_TEXTS, dump_yaml, render_yaml

_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["true", "012", "1e5", "null", "~", "- x", "a: b", "#c", "", " lead", "end "]),
    st.lists(st.sampled_from(["word", "another", "x" * 40, "\n", "\t", "é", "{{ env.a }}"])).map(
        " ".join
    ),  # long lines that fold at width 100
)
_scalar = st.one_of(
    _text,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)
_step = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8), "request": st.dictionaries(_text, _value, max_size=4)},
    optional={"assertions": st.lists(_value, max_size=3), "extra": _value},
)


@settings(max_examples=200)
@given(
    steps=st.lists(_step, max_size=5),
    before=st.dictionaries(st.sampled_from(["name", "description", "tags"]), _value),
    after=st.dictionaries(st.sampled_from(["timeout_ms", "x-notes"]), _value),
    twice=st.booleans(),
)
def test_a_journey_written_a_step_at_a_time_is_the_journey_written_whole(
    steps: list[dict[str, Any]], before: dict[str, Any], after: dict[str, Any], twice: bool
) -> None:
    if twice and steps:
        steps = [*steps, steps[0]]  # one mapping held twice: written out twice, no &alias
    document = {"journey": {**before, "steps": steps, **after}}
    text = render_yaml(document)
    assert text == dump_yaml(document)
    assert render_yaml(document) == text  # from the memory the second time
    assert "&id" not in text or "&id" in repr(document)


def test_a_step_is_remembered_by_its_exact_value() -> None:
    one = {"id": "a", "request": {"n": 1}}
    assert STEP_TEXTS.text(one) != STEP_TEXTS.text({"id": "a", "request": {"n": 1.0}})
    assert STEP_TEXTS.text(one) != STEP_TEXTS.text({"id": "a", "request": {"n": True}})
    assert "n: 1.0" in STEP_TEXTS.text({"id": "a", "request": {"n": Decimal("1.0")}})
