"""The redactor's work is bounded, whatever the secrets and the text (no secret can burn a worker).

Work is counted, not timed: every view the redactor builds is paid for in characters
(`redaction.budget.counting`). A one-character secret used to make a 200,000-character text cost
thousands of views (minutes of CPU); now a short secret is masked only as written, and every
redaction stays within WORK_FACTOR characters per character of the text (a text that would need
more is withheld whole).
"""

from __future__ import annotations

import base64
import random
import re
import string

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction import CUT_MARK, MIN_SPELLED_CHARS, REDACTED, Redactor
from reqflo.engine.redaction.budget import (
    WITHHELD,
    WORK_FACTOR,
    WORK_FLOOR,
    RedactionStopped,
    counting,
)

SIZE = 200_000
# Every printable character, non-ASCII ones included.
CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
SECRET = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=64),
    st.builds(lambda c, n: c * n, st.text(CHARACTERS, min_size=1, max_size=1), st.integers(1, 64)),
)
# What these texts cost at most: within the budget, so none is withheld (text of escapes only,
# read in each of the four readings, costs the most: about 13 characters per character, and
# with the windows before a cut for a long non-ASCII secret about 24.4: Hypothesis found 60 x
# "Ğ", which the budget of 24 then withheld; it is 32 since).
TYPICAL_FACTOR = WORK_FACTOR


def _noise(seed: int, alphabet: str, size: int = SIZE) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


KINDS = ["secret chars", "base64", "alnum", "escapes", "hex"]


def texts(kind: str, seed: int, secrets: list[str]) -> str:
    """A large text, often made of the secrets' own characters (the adversarial case)."""
    if kind == "secret chars":
        return _noise(seed, "".join(secrets))
    if kind == "base64":
        rng = random.Random(seed)
        return base64.b64encode(rng.randbytes(SIZE * 3 // 4)).decode()
    if kind == "alnum":
        return _noise(seed, string.ascii_letters + string.digits + "".join(secrets)[:8])
    if kind == "escapes":
        return _noise(seed, "%25\\u00&#x;+" + string.hexdigits)
    return _noise(seed, "3" + string.hexdigits)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking 200,000 characters: hours
)
@given(
    secrets=st.lists(SECRET, min_size=1, max_size=4),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**16),
    cut=st.sampled_from([None, "end"]),
)
# A short secret between two masked long ones (`…HHHėėHHH…`) stood alone once they were masked.
@example(secrets=["ėė", "H" * 63], kind="secret chars", seed=0, cut=None)
# `İ0`, a digit touching a letter, read as a `0` alone once `İ` was lower-cased to `i̇`.
@example(secrets=["%YĤeİz", "0"], kind="secret chars", seed=252, cut=None)
def test_redaction_work_is_linear_in_the_text_for_any_secret_set(
    secrets: list[str], kind: str, seed: int, cut: str | None
) -> None:
    text = texts(kind, seed, secrets)
    redactor = Redactor(secrets)
    with counting() as spent:
        masked = redactor.redact(text, cut=cut)
    assert spent[0] <= TYPICAL_FACTOR * len(text), (spent[0], secrets, text[:100])
    assert masked != WITHHELD
    for secret in secrets:
        if len(secret) >= MIN_SPELLED_CHARS:
            assert secret.lower() not in masked.replace(REDACTED, "\x00").lower()
        else:
            assert not _standing_alone(secret).search(_lowered(masked))


def _lowered(text: str) -> str:
    """Lower-cased character by character, a character whose lower case is two (`İ` is `i̇`,
    an `i` and a combining dot) kept as it is: `İ0` must not read as a `0` after a mark, which
    stands alone, when it touches a letter, which does not."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _standing_alone(short: str) -> re.Pattern[str]:
    """A short secret where no letter or digit touches its letter-or-digit ends (the rule in
    docs/secrets.md), lower-cased."""
    before = "(?<![^\\W_])" if short[:1].isalnum() else ""
    after = "(?![^\\W_])" if short[-1:].isalnum() else ""
    return re.compile(before + re.escape(_lowered(short)) + after)


def test_a_short_secret_is_masked_as_written_only() -> None:
    redactor = Redactor(["x"])
    assert redactor.redact("aXb x %78 eA== X,") == f"aXb {REDACTED} %78 eA== {REDACTED},"
    assert redactor.occurs_in(["zz X"])
    assert not redactor.occurs_in(["zzX"])
    assert not redactor.occurs_in(["%78"])
    with counting() as spent:
        redactor.redact(_noise(1, string.ascii_letters + string.digits + "+/"))
    assert spent[0] == 0  # no view is built: there is nothing to decode for


@settings(max_examples=200, deadline=None)
@given(
    short=st.text(CHARACTERS, min_size=1, max_size=MIN_SPELLED_CHARS - 1),
    long=st.text(CHARACTERS, min_size=MIN_SPELLED_CHARS, max_size=12),
    before=st.booleans(),
    after=st.booleans(),
)
def test_a_short_secret_beside_a_masked_one_is_masked(
    short: str, long: str, before: bool, after: bool
) -> None:
    """The letters that made a short secret part of a word are masked themselves: it stands
    alone in what is shown (`•••••ėė•••••`), so it is masked too."""
    assume(before or after)
    assume(REDACTED[0] not in short + long and short.lower() not in long.lower())
    text = "x " + (long if before else "") + short + (long if after else "") + " y"
    masked = Redactor([short, long]).redact(text)
    assert not _standing_alone(short).search(masked.lower()), masked


WORDS = st.text(string.ascii_letters + string.digits, min_size=1, max_size=8)
SHORT_SECRETS = st.text(
    string.ascii_letters + string.digits + "!#$", min_size=1, max_size=MIN_SPELLED_CHARS - 1
)


@settings(max_examples=200, deadline=None)
@given(
    secret=SHORT_SECRETS,
    words=st.lists(WORDS, min_size=1, max_size=12),
    separators=st.lists(st.sampled_from([" ", "=", "&", '"', ": ", ", ", "/"]), min_size=12),
)
def test_a_short_secret_is_masked_where_it_stands_alone_not_inside_words(
    secret: str, words: list[str], separators: list[str]
) -> None:
    """A one-letter secret must not turn every `a` of a log line into •••••: it is masked as a
    whole token (the value of `pin=7`, a quoted `"a"`), and letters inside words stay."""
    glued = [f"{word}{secret}{word}" if word[-1:].isalnum() else word for word in words]
    pieces = [*glued, secret, *words]
    line = "".join(piece + separators[i % len(separators)] for i, piece in enumerate(pieces))

    masked = Redactor([secret]).redact(line)

    assert not _standing_alone(secret).search(masked.lower()), (line, masked)
    assert REDACTED in masked
    if secret[:1].isalnum() and secret[-1:].isalnum():
        for word in glued:  # a word holding the secret with letters on both sides is kept
            if word[:1].isalnum() and word[-1:].isalnum():
                assert word in masked, (line, masked)


def test_a_text_beyond_the_budget_is_withheld_whole_not_shown_half_checked() -> None:
    # A secret holding the cut mark gets whole windows before each mark: many marks cost more
    # than the budget allows.
    secret = "ab…" + "c" * 60
    text = ("zz" + CUT_MARK) * (SIZE // 3)
    redactor = Redactor([secret])
    with counting() as spent:
        masked = redactor.redact(text, cut="marks")
    assert masked == WITHHELD
    assert spent[0] <= WORK_FACTOR * len(text) + WORK_FLOOR + len(text)
    assert redactor.occurs_in([text])  # not checked in full: treated as holding a secret


def test_cut_windows_stop_at_the_mark_before() -> None:
    secret = "s3cr3t-T0ken/+=="
    text = ("ab" + CUT_MARK) * (SIZE // 3) + "s3cr3t" + CUT_MARK
    redactor = Redactor([secret])
    with counting() as spent:
        masked = redactor.redact(text, cut="marks")
    assert masked.endswith(REDACTED + CUT_MARK)
    assert spent[0] <= WORK_FACTOR * len(text)  # each mark costs _PER_CUT at least


def test_a_long_redaction_asks_stop_and_ends_when_told() -> None:
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return True

    text = base64.b64encode(random.Random(5).randbytes(SIZE)).decode()
    redactor = Redactor(["s3cr3t-T0ken"], stop=stop)
    with pytest.raises(RedactionStopped):
        redactor.redact(text)
    assert asked == [1]
    assert Redactor(["s3cr3t-T0ken"], stop=lambda: False).redact(text) == text
