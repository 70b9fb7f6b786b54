"""Issue 17 item 3: the step scan's cheaper parts give exactly what the ones they replaced gave.

Each test holds a fast part to a reference: the implementation it replaced, kept here.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction.redactor import _JOIN, _by_text


def by_text_walking(
    texts: list[str], spans: list[tuple[int, int]]
) -> tuple[frozenset[str], dict[str, tuple[tuple[int, int], ...]]]:
    """`_by_text` as it was: every text walked, with the spans that may reach it."""
    spans = sorted(spans)
    untouched: set[str] = set()
    known: dict[str, tuple[tuple[int, int], ...]] = {}
    unknown: set[str] = set()
    start = 0
    index = 0
    for text in texts:
        end = start + len(text)
        while index < len(spans) and spans[index][1] <= start:
            index += 1
        own: list[tuple[int, int]] = []
        crossing = False
        for span_start, span_end in spans[index:]:
            if span_start >= end:
                break
            if span_end > start:
                if span_start < start or span_end > end:
                    crossing = True
                    break
                own.append((span_start - start, span_end - start))
        if crossing:
            unknown.add(text)
        elif not own:
            untouched.add(text)
        elif text not in known:
            known[text] = tuple(own)
        start = end + len(_JOIN)
    for text in unknown | untouched:
        known.pop(text, None)
    return frozenset(untouched), known


@st.composite
def texts_and_spans(draw: st.DrawFn) -> tuple[list[str], list[tuple[int, int]]]:
    # Few distinct texts, so that one text often stands several times (touched in one place,
    # untouched or crossed in another).
    texts = draw(
        st.lists(
            st.sampled_from(["a", "bc", "token", "x" * 9, "ab", "•••••"]), min_size=1, max_size=12
        )
    )
    size = len(_JOIN.join(texts))
    span = st.integers(0, size - 1).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(start + 1, size))
    )
    return texts, draw(st.lists(span, max_size=8))


@settings(max_examples=500, deadline=None)
@given(texts_and_spans())
@example((["ab", "ab"], [(0, 1), (4, 6)]))
@example((["ab", "cd", "ab"], [(1, 5)]))  # crossing the separator into the next text
@example((["ab", "cd"], [(2, 3)]))  # in the separator alone
@example((["ab", "cd", "ab"], [(0, 2), (8, 9), (1, 5)]))
def test_spans_placed_by_search_are_the_walked_ones(
    case: tuple[list[str], list[tuple[int, int]]],
) -> None:
    texts, spans = case
    assert _by_text(texts, spans) == by_text_walking(texts, spans)
