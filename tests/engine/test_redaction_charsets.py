"""Issue 13 (D2): a secret beyond ASCII sent back in a single-byte charset, `?` for each
character that charset lacks, and read back as the engine reads a body (UTF-8) or httpx a header
(Latin-1), or as a body declared Windows-1252 is read, is masked.
"""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import REDACTED, Redactor
from reqflo.engine.redaction import MIN_SPELLED_CHARS

# Letters from ASCII, Latin-1, Windows-1252's extras (`€`, `Œ`) and beyond all three (`Ω`, `中`).
ALPHABET = st.sampled_from(list("abcXYZ0129-_äöüßéÀ€ŒšΩж中ő"))
SECRETS = st.text(ALPHABET, min_size=MIN_SPELLED_CHARS + 2, max_size=16).filter(
    lambda s: not s.isascii() and len(set(s)) >= 4
)
CHARSETS = st.sampled_from(["latin-1", "cp1252", "ascii"])
READINGS = st.sampled_from(["utf-8", "latin-1", "cp1252"])


@settings(max_examples=300, deadline=None)
@given(secret=SECRETS, charset=CHARSETS, reading=READINGS)
@example(secret="pässwörd€42x", charset="latin-1", reading="latin-1")  # pässwörd?42x
@example(secret="Passwörd", charset="ascii", reading="latin-1")  # Passw?rd
@example(secret="pässwörd€42x", charset="cp1252", reading="utf-8")
def test_a_secret_sent_back_in_a_narrow_charset_is_masked(
    secret: str, charset: str, reading: str
) -> None:
    sent_back = secret.encode(charset, errors="replace").decode(reading, errors="replace")
    assume(sent_back.strip() == sent_back)  # (what a stripped value leaves: the D1 tests)
    text = f"X-Refl: {sent_back}\r\nnext"

    masked = Redactor([secret]).redact(text)

    assert masked == f"X-Refl: {REDACTED}\r\nnext", (sent_back, masked)
