"""Issue 17 item 3: the redactor's fast paths answer as its full path, and are taken.

`Redactor.occurs_in` decides for a whole step whether anything needs masking, on its texts
joined into one; `redact` then masks each text on its own. The joined scan may only ever say
"present" more often than the texts one by one (never less), and its fast paths must keep it
off the full path where nothing can be found:

- texts joined by the separator never look NUL-spaced (UTF-16 read as UTF-8) because some of
  them are one character long (`4`, `4`, `4` from one step's assertions sent a whole step down
  the full path), while a text that is NUL-spaced still gets its NUL-free view;
- `layout.nul_spaced` with its literal prefilter answers as the plain pattern;
- building a redactor: an ASCII value without an escape hint has one form (`forms._forms`), and
  a form with no `%`, `\\` or `&` near its end has no partial-escape cores (`_cores_of`).
"""

from __future__ import annotations

import base64
import binascii
import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction import CUT_MARK, Redactor
from reqflo.engine.redaction.escapes import _PARTIAL_ESCAPES
from reqflo.engine.redaction.forms import _all_forms, _forms
from reqflo.engine.redaction.layout import _NUL_SPACED, nul_spaced
from reqflo.engine.redaction.redactor import _cores_of
from reqflo.engine.redaction.runs import _TEXT, _decodes_to_text
from tests.engine.test_redaction_shortcuts import FullPath, texts_and_secrets


@settings(max_examples=1000, deadline=None)
@given(text=st.text(st.sampled_from("ab\x00\x01é\U0001f600"), max_size=40))
@example(text="a\x00b\x00c\x00")
@example(text="a\x00\x00\x00b\x00\x00\x00c\x00")
@example(text="a\x00\x00\x00\x00b\x00c\x00d\x00")
def test_nul_spaced_answers_as_the_plain_pattern(text: str) -> None:
    assert nul_spaced(text) == (_NUL_SPACED.search(text) is not None)


def _utf16_as_utf8(text: str) -> str:
    return text.encode("utf-16-le").decode("utf-8", "replace")


@settings(max_examples=300, deadline=None)
@given(
    case=texts_and_secrets(),
    singles=st.lists(st.sampled_from(["4", "0", "1", "x", "é", "%", "+", ""]), max_size=6),
    wide=st.booleans(),
)
@example(case=(["demo-password"], ["x"]), singles=["4", "4", "4"], wide=True)
def test_the_joined_scan_finds_whatever_one_text_would_mask(
    case: tuple[list[str], list[str]], singles: list[str], wide: bool
) -> None:
    """`occurs_in` says "present" whenever redacting any one text (full path) changes it."""
    secrets, texts = case
    texts = [*singles, *texts, *singles]
    if wide:  # a secret echoed in UTF-16, read as UTF-8, among them
        texts.insert(len(singles), _utf16_as_utf8(f"key={secrets[0]}"))
    quick, full = Redactor(secrets), FullPath(secrets)
    masked = any(full.redact(text) != text for text in texts)
    if masked:
        assert quick.occurs_in(texts)
    assert quick.occurs_in(texts) == full.occurs_in(texts)


def test_one_character_texts_keep_a_step_on_the_bare_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A step whose assertions record `4`, `4`, `4` is scanned without building views."""
    redactor = Redactor(["demo-password", "tok_8ba96f72bfe11365aa01"])
    texts = [
        "http://shop.test/demo-shop/api/carts/cart_8ba96f72bfe11365/items",
        '{"quantity":4,"sku":"mug-02"}',
        "$.items[0].quantity equals 4",
        "4",
        "4",
        "4",
        "$.total is greater than 0",
        "0",
        "1",
    ]

    def no_views(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the full path was taken")

    monkeypatch.setattr(Redactor, "_views", no_views)
    assert not redactor.occurs_in(texts)
    # A text that is NUL-spaced itself still is viewed without its NULs (and found).
    monkeypatch.undo()
    assert redactor.occurs_in([*texts, _utf16_as_utf8("password=demo-password")])


@pytest.mark.parametrize("alphabet", [string.ascii_lowercase, "ab\x00"])
def test_single_characters_joined_are_not_nul_spaced(alphabet: str) -> None:
    redactor = Redactor(["demo-password"])
    texts = list(alphabet)
    assert redactor.occurs_in(texts) is False


# Texts full of what the escape readings and the partial-escape cores look at.
ESCAPY = st.text(st.sampled_from("aZ09-_=%\\&#;xXnuU+. é€K\u212a"), max_size=48)


@settings(max_examples=1000, deadline=None)
@given(text=ESCAPY | st.text(max_size=20))
@example(text="demo-password")
@example(text="XN--abc")
@example(text="abc%2")
@example(text="\u212aelvin")  # not ASCII, though it lower-cases to ASCII
def test_a_plain_ascii_value_has_only_its_lower_case_form(text: str) -> None:
    """`forms._forms`' shortcut (ASCII without an escape hint) answers as the full work."""
    assert _forms(text) == _all_forms(text)


def _all_cores(form: str) -> tuple[str, ...]:
    cores = []
    for pattern in _PARTIAL_ESCAPES:
        partial = pattern.search(form)
        if partial is not None and partial.start() >= 3:
            cores.append(form[: partial.start()])
    return tuple(cores)


@settings(max_examples=1000, deadline=None)
@given(head=st.text(max_size=40), tail=ESCAPY)
@example(head="abc", tail="&#x" + "a" * 31)
@example(head="abc", tail="&" + "a" * 33)
def test_cores_without_an_escape_near_the_end_are_none(head: str, tail: str) -> None:
    form = (head + tail).lower()
    assert _cores_of(form) == _all_cores(form)


RUNS = st.sampled_from(
    [
        "cart_8ba96f72bfe11365",
        "test/demo-shop/api/carts",
        base64.b64encode(b"hunter22-and-more").decode(),
        base64.b64encode(b"xx hunter22 yy").decode()[1:],
        b"hunter22".hex(),
        "aGVsbG8gd29ybGQ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    secrets=st.lists(
        st.sampled_from(["hunter22", "demo-password", "hunter22-and-more"]), min_size=1
    ),
    texts=st.lists(st.lists(RUNS | st.sampled_from([" ", "/", '"', "x="])).map("".join)),
    later=st.sampled_from(["hunter22", "hunt", "a-much-longer-secret-value", "aGVs"]),
)
def test_a_reused_redactor_answers_as_a_new_one(
    secrets: list[str], texts: list[str], later: str
) -> None:
    """The run memo a redactor keeps between texts (and through `add`) changes no answer."""
    reused = Redactor(secrets)
    for phase in range(2):
        for text in texts:
            fresh = FullPath(secrets)
            assert reused.redact(text) == fresh.redact(text), text
            assert reused.occurs_in([text]) == fresh.occurs_in([text]), text
        assert reused.occurs_in(texts) == FullPath(secrets).occurs_in(texts)
        if phase == 0:  # a value captured later may be shorter: other runs can hold it
            secrets = [*secrets, later]
            reused.add(later)


def test_a_shorter_value_added_later_is_found_in_a_run_seen_before() -> None:
    # Long enough to be a run for the long value, without 26 characters of text in a row.
    encoded = base64.b64encode(b"\x00" * 10 + b"ab hunter22 cd" + b"\x00" * 10).decode()
    redactor = Redactor(["a-much-longer-secret-value"])
    assert redactor.redact(f"x {encoded} y") == f"x {encoded} y"
    redactor.add("hunter22")
    assert redactor.redact(f"x {encoded} y") != f"x {encoded} y"
    assert redactor.occurs_in([f"x {encoded} y"])


@settings(max_examples=300, deadline=None)
@given(
    case=texts_and_secrets(),
    singles=st.lists(st.sampled_from(["4", "x", "é", "+", "a+b", "hunter22"]), max_size=4),
)
@example(case=(["hunter22"], ["x hunter22", "y"]), singles=[])
@example(case=(["hunter22"], ["x hunter2", "2 y"]), singles=[])  # a needle over the join
def test_untouched_texts_are_left_as_they_are_by_the_full_path(
    case: tuple[list[str], list[str]], singles: list[str]
) -> None:
    """`Redactor.untouched` names only texts that redacting (full path) leaves unchanged, and
    inside `step_scan` every text is redacted as outside it."""
    secrets, texts = case
    texts = [*singles, *texts]
    quick, full = Redactor(secrets), FullPath(secrets)
    untouched = quick.untouched(texts)
    for text in untouched:
        assert full.redact(text) == text, text
    outside = [(quick.redact(t), quick.redact(t, cut="marks")) for t in texts]
    scan = quick.step_scan(texts)
    if scan is None:  # nothing to mask in any of them
        assert outside == [(t, t) for t in texts]
    else:
        with scan:
            inside = [(quick.redact(t), quick.redact(t, cut="marks")) for t in texts]
        assert inside == outside
    assert quick._untouched == frozenset()
    # The step scan says "nothing here" exactly when `occurs_in` does, cut texts or not.
    for cut_texts in ([], texts[:1], [text + CUT_MARK for text in texts[-1:]]):
        expected = full.occurs_in(texts, cut_texts)
        assert quick.occurs_in(texts, cut_texts) == expected
        assert (quick.step_scan(texts, cut_texts) is not None) == expected
    marked = [*texts, "…"]
    assert (quick.step_scan(marked) is not None) == full.occurs_in(marked)


def test_a_step_scan_leaves_out_the_strings_without_a_secret() -> None:
    token = "tok_8ba96f72bfe11365aa01"
    redactor = Redactor(["demo-password", token])
    texts = [
        "http://shop.test/demo-shop/api/login",
        "application/json",
        '{"email":"a@example.com","password":"•••••"}',
        f'{{"token": "{token}", "user": {{"email": "a@example.com"}}}}',
        '$.token is of type "string"',
        token,
        "a@example.com",
    ]
    # `password` is the last 8 of demo-password's 13 characters, a cut spelling of the value
    # (docs/secrets.md, "Cut spellings"): the key that holds it is masked too.
    assert redactor.untouched(texts) == frozenset({texts[0], texts[1], texts[4], texts[6]})
    assert redactor.redact(texts[2]) == '{"email":"a@example.com","•••••":"•••••"}'


def _each_decoding_alone(group: str, shortest: int) -> bool:
    """`runs._decodes_to_text` as it was: each alignment and hex run decoded and searched alone."""
    stretch = re.compile(f"{_TEXT}{{{shortest},}}")
    encoded = group.rstrip("=").encode("ascii").translate(bytes.maketrans(b"-_", b"+/"))
    for offset in range(4):
        run = encoded[offset:]
        usable = len(run) if len(run) % 4 >= 2 else len(run) - len(run) % 4
        if usable < 2 or usable * 3 // 4 < shortest:
            continue
        raw = binascii.a2b_base64(run[:usable] + b"=" * (-usable % 4))
        if stretch.search(raw.decode("utf-8", "surrogateescape")):
            return True
    for inner in re.finditer(f"[0-9A-Fa-f]{{{max(2, 2 * shortest - 2)},}}", group):
        for offset in range(2):
            digits = inner.group()[offset:]
            usable = len(digits) - len(digits) % 2
            if usable >= 2 and usable // 2 >= shortest:
                raw = bytes.fromhex(digits[:usable])
                if stretch.search(raw.decode("utf-8", "surrogateescape")):
                    return True
    return False


# Decodings that end inside a UTF-8 sequence, next to ones that start with its continuation.
_UTF8_EDGES = st.lists(
    st.sampled_from(
        [b"ab", b"\xe2\x82", b"\xac", b"\xf0\x9f", b"\x98\x80", b"\x00", "xyz é".encode()]
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=1000, deadline=None)
@given(
    raw=_UTF8_EDGES | st.binary(max_size=40),
    lead=st.sampled_from(["", "A", "AB", "ABC"]),
    shortest=st.integers(1, 8),
    url_safe=st.booleans(),
    times=st.sampled_from([1, 12]),  # a long run is searched decoding by decoding
)
def test_decodings_searched_at_once_answer_as_each_alone(
    raw: bytes, lead: str, shortest: int, url_safe: bool, times: int
) -> None:
    raw *= times
    encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
    for group in (lead + encode(raw).decode(), lead + raw.hex()):
        if not group:
            continue
        hex_run = re.compile(f"[0-9A-Fa-f]{{{max(2, 2 * shortest - 2)},}}")
        stretch = re.compile(f"{_TEXT}{{{shortest},}}")
        assert _decodes_to_text(group, hex_run, stretch, shortest) == _each_decoding_alone(
            group, shortest
        ), group
