"""Issue 17 item 3: a step redacted the engine's way masks exactly what the full path masks.

The engine redacts a step's strings after one scan of them all (`Redactor.step_scan`): the scan
says whether anything needs masking, which strings hold nothing, and where the others hold a
secret; base64 and hex runs are found and ruled out several at a time. The ORACLE is the full
path, each string on its own: every view of it built and searched (`FullPath`, no shortcut).
For random secrets (the whole printable range, beyond ASCII, whitespace at the ends, 4 to 40
characters, a short one now and then) and random steps holding them in random stacks of
spellings, cut short, beside near misses and unrelated escapes, runs and evidence, every string
must come out of the engine's way exactly as out of the oracle, through a redactor reused
across steps while secrets are added (as a run's redactor is).
"""

from __future__ import annotations

import base64
import re
import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction import CUT_MARK, REDACTED, Redactor
from reqflo.engine.redaction.runs import _TEXT, _decode_together, _decodes_to_text
from tests.engine.test_redaction_shortcuts import EVIDENCE, FullPath
from tests.engine.test_redaction_stacks import PRINTABLE, UNRELATED, spell, stacks

# Secrets: the whole printable range (letters, marks, numbers, symbols, spaces, format
# characters) and characters whose lower case depends on where they stand or changes length.
SECRET_CHARS = PRINTABLE | st.sampled_from(list("Σσςİı\u212aß \t-_=%&+/:@aA0•"))
LONG_SECRETS = st.text(SECRET_CHARS, min_size=4, max_size=40).filter(
    lambda s: len(set(s.lower())) >= 2
)
SHORT_SECRETS = st.text(SECRET_CHARS | st.sampled_from(list("ab1")), min_size=1, max_size=3)
SECRETS = st.lists(LONG_SECRETS, min_size=1, max_size=2) | st.tuples(
    LONG_SECRETS, SHORT_SECRETS
).map(list)

FILLER = st.sampled_from(
    [
        "",
        " ",
        REDACTED,
        "x",
        "4",
        "+",
        "ΑΣ",
        "İ",
        "\x00",
        "a\x00b\x00c\x00",
        "cart_8ba96f72bfe11365",
        "test/demo-shop/api/carts",
        "application/json",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        "deadbeefdeadbeefdeadbeefdeadbeef",
    ]
)


@st.composite
def spelled_text(draw: st.DrawFn, secrets: list[str]) -> str:
    """One evidence string: a secret in a stack of spellings, cut, nearly, or not at all."""
    secret = draw(st.sampled_from(secrets))
    kind = draw(st.sampled_from(["spelled", "cut", "near", "evidence", "random", "utf16"]))
    if kind == "spelled":
        spelled = spell(secret, draw(stacks(max_layers=2)))
    elif kind == "cut":  # a server's cut: the first or last characters, at most all of them
        size = draw(st.integers(1, len(secret)))
        spelled = secret[:size] if draw(st.booleans()) else secret[-size:]
    elif kind == "near":  # one character changed, dropped or added
        at = draw(st.integers(0, len(secret) - 1))
        other = draw(st.sampled_from(["", "x", "é", "%", "Σ"]))
        spelled = secret[:at] + other + secret[at + 1 :]
    elif kind == "evidence":
        spelled = draw(EVIDENCE)
    elif kind == "utf16":
        spelled = f"key={secret}".encode("utf-16-le").decode("utf-8", "replace")
    else:
        spelled = draw(st.text(max_size=30))
    return f"{draw(FILLER)}{draw(UNRELATED)}{spelled}{draw(UNRELATED)}{draw(FILLER)}"


@st.composite
def steps(draw: st.DrawFn) -> tuple[list[str], list[list[tuple[str, str | None]]], list[str]]:
    """Secrets, two steps of (text, cut) pairs, and values added between them."""
    secrets = draw(SECRETS)
    later = draw(st.lists(LONG_SECRETS | SHORT_SECRETS, max_size=1))
    known = [*secrets, *later]
    step_list = []
    for _ in range(2):
        step = []
        for _ in range(draw(st.integers(1, 8))):
            text = draw(spelled_text(known) | FILLER | FILLER | st.text(max_size=12))
            cut = draw(st.sampled_from([None, None, None, "marks", "end"]))
            if cut == "marks" and draw(st.booleans()):
                text = text[: draw(st.integers(0, len(text)))] + CUT_MARK
            step.append((text, cut))
        step_list.append(step)
    return secrets, step_list, later


def engine_way(redactor: Redactor, step: list[tuple[str, str | None]]) -> list[str]:
    """Redact a step as `evidence.redact_step` does: one scan, then each string in its scope."""
    texts = [text for text, _ in step]
    cut_texts = [text for text, cut in step if cut == "end"]
    scan = redactor.step_scan(texts, cut_texts)
    if scan is None:
        return texts
    with scan:
        return [redactor.redact(text, cut=cut) for text, cut in step]


def oracle(secrets: list[str], step: list[tuple[str, str | None]]) -> list[str]:
    full = FullPath(secrets)
    return [full.redact(text, cut=cut) for text, cut in step]


@settings(max_examples=600, deadline=None)
@given(case=steps())
@example(case=(["ΑΣ"[::-1] + "ab"], [[("ΣΑ" + "ab", None), ("İ", None)]] * 2, []))
@example(case=(["abΣ"], [[("ABΣ", None), ("İ", None)], [("x", None)]], []))
@example(case=(["hunter22"], [[("x hunter2", None), ("2 y", None)]] * 2, ["hunt"]))
def test_a_step_is_masked_as_the_full_path_masks_each_string(
    case: tuple[list[str], list[list[tuple[str, str | None]]], list[str]],
) -> None:
    secrets, step_list, later = case
    redactor = Redactor(secrets)
    for number, step in enumerate(step_list):
        assert engine_way(redactor, step) == oracle(secrets, step), step
        # Nothing from the step scan outlives it.
        assert not redactor._untouched
        assert not redactor._known
        if number == 0 and later:
            redactor.add(*later)
            secrets = [*secrets, *later]


ID_CHARS = string.ascii_letters + string.digits + "+/_-"


@settings(max_examples=300, deadline=None)
@given(
    secret=LONG_SECRETS,
    runs=st.lists(
        st.text(ID_CHARS, min_size=10, max_size=60)
        | st.binary(min_size=4, max_size=40).map(lambda raw: base64.b64encode(raw).decode())
        | st.binary(min_size=4, max_size=30).map(bytes.hex),
        min_size=1,
        max_size=6,
    ),
    encoded_at=st.integers(0, 6),
    lead=st.sampled_from(["", "A", "xy", "/"]),
)
def test_runs_ruled_out_together_mask_as_the_full_path(
    secret: str, runs: list[str], encoded_at: int, lead: str
) -> None:
    """Several runs at once (ids, paths, tokens), one of them maybe the secret in base64 or hex
    at any alignment: masked as each string alone on the full path."""
    encoded = [
        lead + base64.b64encode(secret.encode("utf-8", "surrogatepass")).decode(),
        lead + base64.urlsafe_b64encode(secret.encode("utf-8", "surrogatepass")).decode(),
        lead + secret.encode("utf-8", "surrogatepass").hex(),
    ]
    texts = list(runs)
    if encoded_at < len(texts):
        texts[encoded_at] = f"/api/{encoded[encoded_at % 3]}/items"
    step: list[tuple[str, str | None]] = [(f"http://shop.test/{text}", None) for text in texts]
    redactor = Redactor([secret])
    assert engine_way(redactor, step) == oracle([secret], step)


# Runs as evidence holds them: ids, paths, tokens, and encodings of text and of binary data,
# with characters before them that shift the alignment, ends inside UTF-8 sequences.
_RUN_TEXT = st.text(st.sampled_from("ab é€\U0001f600\x00\x7f"), max_size=24).map(
    lambda text: text.encode("utf-8", "surrogatepass")
)
ENCODED_RUNS = st.tuples(
    st.sampled_from(["", "A", "xy", "_-/", "0"]),
    st.one_of(
        st.text(ID_CHARS, min_size=1, max_size=60),
        (_RUN_TEXT | st.binary(max_size=40)).map(lambda raw: base64.b64encode(raw).decode()),
        (_RUN_TEXT | st.binary(max_size=40)).map(
            lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")
        ),
        (_RUN_TEXT | st.binary(max_size=40)).map(bytes.hex),
        (_RUN_TEXT | st.binary(max_size=40)).map(lambda raw: raw.hex().upper()),
    ),
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(
    groups=st.lists(ENCODED_RUNS.filter(bool), min_size=1, max_size=6), shortest=st.integers(1, 14)
)
@example(groups=["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"], shortest=13)
@example(groups=["xy" + b"hunter22 and more".hex()], shortest=8)
def test_runs_decoded_together_never_miss_one_that_decodes_to_text(
    groups: list[str], shortest: int
) -> None:
    """`runs._decode_together` says "none" only when no run, decoded on its own at any
    alignment (or a hex run inside it), holds `shortest` characters of text in a row."""
    hex_run = re.compile(f"[0-9A-Fa-f]{{{max(2, 2 * shortest - 2)},}}")
    stretch = re.compile(f"{_TEXT}{{{shortest},}}")
    alone = [_decodes_to_text(group, hex_run, stretch, shortest) for group in groups]
    if any(alone):
        assert _decode_together(groups, hex_run, stretch, shortest), (groups, alone)
