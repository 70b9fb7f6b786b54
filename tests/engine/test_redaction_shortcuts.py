"""Issue 17: the redactor's shortcuts give the answers of its full path, never fewer masks.

The engine redacts every string of every step once a secret is known, so the redactor takes
shortcuts where the answer is known without building views (`Redactor._bare`): a text with no
escape hint (but `+`), no wrapped base64 line, no base64 or hex run that decodes to text and no
NFKC form to search is its own only view (with its `+` read as spaces, when it has any). These
properties hold the shortcuts to the full path:

- a bare text has the views the shortcut names and no other (the full path's `_views` finds
  them, each mapping back position for position: the text itself, and where `+` is the only
  hint, the text with `+` read as a space), so the shortcut can never say "absent" where a
  view would hold a spelling; a text shorter than every needle has no longer view
  (`Redactor._too_short`);
- redacting and `occurs_in` give the same answers with the shortcut as without it, for secrets
  spelled in stacks of escapes and encodings among unrelated escapes, and for texts of base64
  and hex characters;
- the inlined run check (`runs._any_long_text_run`) answers as the decoders it stands for;
- the base64 run minimum (ceil(4 * shortest / 3), below the old `shortest`) masks the same.
"""

from __future__ import annotations

import base64
import re
import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction import CUT_MARK, Redactor
from reqflo.engine.redaction.runs import _NOT_TEXT, _any_long_text_run, _run_decoders
from reqflo.engine.redaction.views import _lower
from tests.engine.test_redaction_stacks import ASCII_SECRETS, SECRETS, UNRELATED, spell, stacks


class FullPath(Redactor):
    """The redactor without its shortcut: every text is viewed in full."""

    def _bare(self, text: str, lowered: str) -> tuple[str, ...] | None:
        return None

    def _too_short(self, text: str) -> bool:
        return False


BASE64_TEXT = st.text(string.ascii_letters + string.digits + "+/_-= .\n", max_size=120)
EVIDENCE = st.sampled_from(
    [
        "application/json",
        "http://shop.test/demo-shop/api/carts/cart_8ba96f72bfe11365/items",
        '{"id": "cart_8ba96f72bfe11365", "items": [], "total": 0}',
        "status equals 201",
        '$.id matches "^cart_[0-9a-f]+$"',
        "gzip, deflate, br",
        "Grüße aus Straße, naïve ﬁle",
        "line one\nline two\n",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n",
        "",
    ]
)


@st.composite
def texts_and_secrets(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Secrets, and texts: a secret spelled in a stack among unrelated escapes, evidence-like
    strings, strings of base64 and hex characters (possibly holding an encoded secret)."""
    secrets = draw(st.lists(ASCII_SECRETS | SECRETS, min_size=1, max_size=2))
    texts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["spelled", "evidence", "base64", "mixed", "short"]))
        if kind == "spelled":
            spelled = spell(draw(st.sampled_from(secrets)), draw(stacks(max_layers=2)))
            texts.append(f"{draw(UNRELATED)} {spelled} {draw(UNRELATED)}")
        elif kind == "evidence":
            texts.append(draw(EVIDENCE))
        elif kind == "short":  # short strings, with escapes and characters NFKC expands
            texts.append(draw(st.text(st.sampled_from("ab%41&#x;\\u+xn--ﬃ㎒é=/"), max_size=12)))
        elif kind == "base64":
            texts.append(draw(BASE64_TEXT))
        else:
            texts.append(draw(EVIDENCE) + draw(BASE64_TEXT) + draw(UNRELATED))
    return secrets, texts


@settings(max_examples=400, deadline=None)
@given(case=texts_and_secrets())
@example(case=(["demo-password"], ['{"email":"a@b.c","password":"demo-password"}']))
@example(case=(["hunter22"], ["aHVudGVyMjI=", "x aHVudGVyMjI y", "68756e7465723232"]))
def test_the_shortcut_answers_as_the_full_path(case: tuple[list[str], list[str]]) -> None:
    secrets, texts = case
    quick, full = Redactor(secrets), FullPath(secrets)
    for text in texts:
        if quick._too_short(text):
            # Shorter than every needle and core in every view: only short secrets can match.
            assert all(len(view.text) <= len(text) for view in full._views(text))
        bare = quick._bare(text, _lower(text))
        if bare is not None:
            # The views the full path builds, and no other: the shortcut cannot miss a spelling.
            views = full._views(text)
            assert [view.lowered for view in views] == list(dict.fromkeys(bare))
            assert all(v.span(i, i + 1) == (i, i + 1) for v in views for i in range(len(text)))
            unmapped = full._views(text, mapped=False)
            assert [view.lowered for view in unmapped] == [view.lowered for view in views]
        assert quick.redact(text) == full.redact(text), text
        assert quick.redact(text, cut="marks") == full.redact(text, cut="marks"), text
    assert quick.occurs_in(texts) == full.occurs_in(texts)
    assert quick.occurs_in(texts, texts[:1]) == full.occurs_in(texts, texts[:1])


@settings(max_examples=200, deadline=None)
@given(case=texts_and_secrets(), cut=st.integers(0, 200))
def test_a_cut_text_is_checked_in_full(case: tuple[list[str], list[str]], cut: int) -> None:
    secrets, texts = case
    quick, full = Redactor(secrets), FullPath(secrets)
    marked = [text[:cut] + CUT_MARK for text in texts]
    assert quick.occurs_in(marked) == full.occurs_in(marked)
    for text in marked:
        assert quick.redact(text, cut="marks") == full.redact(text, cut="marks")


def _generic_any_text_run(text: str, shortest: int) -> bool:
    """The run check as the decoders answer it, one call per run and alignment."""
    hex_minimum = max(2, 2 * shortest - 2)
    base64_minimum = max(2, min(-(-4 * shortest // 3), hex_minimum))
    base64_run = re.compile(f"[A-Za-z0-9+/_-]{{{base64_minimum},}}={{0,2}}")
    hex_run = re.compile(f"[0-9A-Fa-f]{{{hex_minimum},}}")
    decoders = _run_decoders(base64_run, hex_run, shortest)
    for match in base64_run.finditer(text):
        for pattern, decoder in decoders:
            decode = decoder.text  # type: ignore[attr-defined]
            if pattern is base64_run:
                if decode(match) is not None:
                    return True
            elif any(decode(inner) is not None for inner in pattern.finditer(match.group())):
                return True
    return False


# Random runs, and encoded text of every length (the decoders' length limits are exact: a run
# of text exactly `shortest` characters long must be found, one character shorter must not).
_WORDS = st.text(string.printable.strip() + " é€", max_size=16).map(lambda t: t.encode())
ENCODED = st.one_of(
    st.binary(max_size=40).map(lambda raw: raw.hex()),
    st.text(string.ascii_letters + string.digits + "+/_-=", max_size=80),
    _WORDS.map(lambda raw: raw.hex()),
    _WORDS.map(lambda raw: raw.hex().upper()),
    _WORDS.map(lambda raw: base64.b64encode(raw).decode()),
    st.tuples(st.text("AQ+/", max_size=3), _WORDS).map(
        lambda pair: pair[0] + base64.urlsafe_b64encode(pair[1]).decode().rstrip("=")
    ),
)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(ENCODED | st.sampled_from(["aGVsbG8gd29ybGQ=", "68656c6c6f", " ", "."])),
    shortest=st.integers(1, 14),
)
@example(parts=["dGVzdC1zZWNyZXQtdmFsdWU="], shortest=4)
@example(parts=["746573742d7365637265742d76616c7565"], shortest=4)
def test_the_inlined_run_check_answers_as_the_decoders(parts: list[str], shortest: int) -> None:
    text = "".join(parts)
    hex_minimum = max(2, 2 * shortest - 2)
    base64_minimum = max(2, min(-(-4 * shortest // 3), hex_minimum))
    decoders = _run_decoders(
        re.compile(f"[A-Za-z0-9+/_-]{{{base64_minimum},}}={{0,2}}"),
        re.compile(f"[0-9A-Fa-f]{{{hex_minimum},}}"),
        shortest,
    )
    assert _any_long_text_run(text, decoders, shortest) == _generic_any_text_run(text, shortest)


@settings(max_examples=300, deadline=None)
@given(case=texts_and_secrets())
@example(case=(["abcdef"], ["YWJjZGVm", "x=YWJjZGVm&y", "6162636465"]))  # the shortest runs
def test_the_shorter_base64_minimum_masks_the_same(case: tuple[list[str], list[str]]) -> None:
    secrets, texts = case
    tight, loose = Redactor(secrets), FullPath(secrets)
    # The decoders as `Redactor.add` built them before issue 17: base64 runs from `shortest`.
    shortest = min(map(len, loose._values))
    keep = 0 if any(_NOT_TEXT.search(value) for value in loose._values) else shortest
    hex_run, _ = loose._run_decoders[4]
    old = re.compile(f"[A-Za-z0-9+/_-]{{{max(2, shortest)},}}={{0,2}}")
    loose._run_decoders = _run_decoders(old, hex_run, shortest, keep)
    for text in texts:
        assert tight.redact(text) == loose.redact(text), text
    assert tight.occurs_in(texts) == loose.occurs_in(texts)
