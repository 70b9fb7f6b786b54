"""Cut a text short without splitting an escape or a character.

A cut inside an escape (`\\u00`, `%C3` of a two-byte `%C3%A9`, `&#23`, `\\xe2\\x82`) or between a
character and its combining marks leaves a fragment of a value: the first bits of a character a
reader can complete, which the redactor cannot tell from the start of anything else (it masks a
secret's first *characters* before a cut, and a fragment is less than one). Every cap the engine
applies to evidence (bodies at the evidence limit, long values and messages cut with "…") cuts
with `cut_text`, or trims a text cut elsewhere (at a byte limit) with `trim_cut`; the redactor
then runs on the text as it is stored.
"""

from __future__ import annotations

import re
import unicodedata

# An escape the end of a text interrupted, in each spelling (JSON, Python, percent, HTML).
_PARTIAL = re.compile(
    r"(?:%[0-9A-Fa-f]?"
    r"|\\u[0-9A-Fa-f]{0,3}"
    r"|\\U[0-9A-Fa-f]{0,7}"
    r"|\\[xX][0-9A-Fa-f]?"
    r"|&#[0-9]{0,6}"
    r"|&#[xX][0-9A-Fa-f]{0,5}"
    r"|&[A-Za-z][A-Za-z0-9]{0,30}"
    r"|\\u[dD][89abAB][0-9A-Fa-f]{2}(?:\\u?[0-9A-Fa-f]{0,3})?"
    r")$"
)
# Complete byte escapes at the end: their bytes may stop inside a UTF-8 sequence.
_BYTE_ESCAPES = re.compile(r"(?:(?:%[0-9A-Fa-f]{2})+|(?:\\[xX][0-9A-Fa-f]{2})+)$")
_ODD_BACKSLASHES = re.compile(r"(?<!\\)(?:\\\\)*\\$")


def _unfinished_bytes(raw: bytes) -> int:
    """Return how many bytes at the end of `raw` start a UTF-8 sequence they do not finish."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            size = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if size > back else 0
    return 0


def trim_cut(text: str) -> str:
    """Return a text that was cut at its end without the escape or character the cut split.

    Removes, until none is left: an unfinished escape (`%C`, `\\u00`, `\\ud83d` without its
    pair, `&#23`, a named entity without its `;`, a lone `\\`), complete `%XX`/`\\xNN` escapes
    whose bytes stop inside a UTF-8 sequence, and a character whose combining marks were cut
    off is kept only by the caller (`cut_text`). May remove a complete entity or escape that
    merely looks unfinished: a cut text loses a few characters more, never shows a fragment.
    """
    while text:
        before = text
        partial = _PARTIAL.search(text)
        if partial is not None:
            text = text[: partial.start()]
        elif _ODD_BACKSLASHES.search(text):
            text = text[:-1]
        else:
            escapes = _BYTE_ESCAPES.search(text)
            if escapes is not None:
                group = escapes.group()
                width = 3 if group[0] == "%" else 4
                unfinished = _unfinished_bytes(
                    bytes.fromhex(group.replace("%", "").replace("\\x", "").replace("\\X", ""))
                )
                text = text[: len(text) - unfinished * width]
        if text == before:
            break
    return text


def cut_text(text: str, size: int) -> str:
    """Return the first `size` characters of `text` at most, cut between whole characters (a
    character stays with its combining marks) and outside any escape (`trim_cut`)."""
    if len(text) <= size:
        return text
    end = size
    while end > 0 and unicodedata.combining(text[end]):
        end -= 1
    return trim_cut(text[:end])
