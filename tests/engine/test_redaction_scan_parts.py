"""Issue 17 item 3: the step scan's cheaper parts give exactly what the ones they replaced gave.

Each test holds a fast part to a reference: the implementation it replaced, kept here.
"""

from __future__ import annotations

import base64
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction.redactor import _JOIN, _by_text
from reqflo.engine.redaction.runs import _hex_runs, _is_text, _run_list, _runs, may_hold_text


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


# Bytes as decoded runs give them, and as text beyond ASCII gives them: ASCII text and controls,
# continuation and lead bytes, the bytes of valid characters (C1 controls, 2-4 byte ones, the
# encoded surrogates Python's decoder refuses) and bytes no valid sequence holds.
PIECES = st.sampled_from(
    [b"a", b"Z", b" ", b"\t", b"\n", b"\x00", b"\x1f", b"\x7f", b"\x80", b"\xbf", b"\xc0", b"\xc1"]
    + [b"\xc2", b"\xdf", b"\xe0", b"\xed", b"\xf0", b"\xf4", b"\xf5", b"\xff"]
    + [c.encode() for c in "\x85é€𝄞\uffff\U0010ffff"]
    + [b"\xed\xa0\x80", b"\xe0\x80\x80", b"\xf4\x90\x80\x80"]
)
RAW = st.binary(max_size=80) | st.lists(PIECES, max_size=40).map(b"".join)


@settings(max_examples=3000, deadline=None)
@given(raw=RAW, shortest=st.integers(0, 14))
@example(raw="é€𝄞abcd".encode(), shortest=7)
@example(raw=b"\xc2\x85" * 7, shortest=7)  # C1 controls are text to `_TEXT`
@example(raw=b"\xe2\x82\xac" * 6 + b"\xe2\x82", shortest=7)  # a cut last character
def test_may_hold_text_never_says_no_to_text(raw: bytes, shortest: int) -> None:
    decoded = raw.decode("utf-8", "surrogateescape")
    if _is_text(decoded, max(shortest, 1)):
        assert may_hold_text(raw, shortest)


def test_may_hold_text_rules_out_decoded_ids_and_paths() -> None:
    # What makes it worth its scans: the decodings of checkout's runs hold no text.
    for run in ("test/demo-shop/api/carts/cart_43579a18c8e4790c/items", "cart_43579a18c8e4790c"):
        for offset in range(4):
            raw = base64.b64decode(run[offset:][: (len(run) - offset) // 4 * 4], altchars=b"-_")
            assert not may_hold_text(raw, 7)


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(st.sampled_from("0123456789abcdefABCDEFgxz/_- "), max_size=60),
    minimum=st.integers(1, 8),
)
def test_hex_runs_found_as_byte_runs_are_the_pattern_matches(text: str, minimum: int) -> None:
    pattern = re.compile(f"[0-9A-Fa-f]{{{minimum},}}")
    assert list(_hex_runs(text, pattern)) == [m.group() for m in pattern.finditer(text)]


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(st.sampled_from("aZ09+/_-=. :\t\n\x00\x01é•\udc80"), max_size=60),
    minimum=st.integers(1, 24),
)
def test_runs_found_as_words_are_the_pattern_matches(text: str, minimum: int) -> None:
    """`_run_list` (words of the mapped bytes) gives the pattern's runs, without their `=`."""
    pattern = re.compile(f"[A-Za-z0-9+/_-]{{{minimum},}}={{0,2}}")
    found = [m.group().rstrip("=") for m in pattern.finditer(text)]
    assert _run_list(text, pattern) == list(_runs(text, pattern)) == found
