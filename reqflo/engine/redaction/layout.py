"""Views that undo what a text's layout did to a value: Unicode normalisation, line wrapping.

- NFKC: a text that is not NFKC-normalised (NFD from macOS clients, compatibility characters
  such as `ﬁ`) is also searched in its NFKC form, and each secret form registers its NFKC form
  too (`forms._forms`), so all four normal forms (NFC, NFD, NFKC, NFKD) of any spelling meet.
  Each character with what combines with it is normalised on its own, so a match maps back
  to exactly the characters it came from.
- Line wrapping: base64 broken by a line break (CRLF or LF) every 76 characters (MIME) or 64
  (PEM) is joined again before its runs are decoded. A break is removed where it stands between
  base64 characters and follows at least WRAPPED_LINE_CHARS of them (a wrapped line is full;
  shorter lines are prose, not encoded data).
"""

from __future__ import annotations

import re
import unicodedata

from reqflo.engine.redaction.views import Piece, _View

# Runs of characters beyond ASCII (with the character before, which a mark may combine with);
# not the cut mark "…" (NFKC: "..."), which every cut value holds and no secret's form needs.
_WIDE = re.compile(r"[\x00-\x7f]?[^\x00-\x7f\u2026]+")


# A chunk ends after this many characters whatever follows (a run of thousands of combining
# marks would otherwise be normalised again at each one).
_MAX_CHUNK = 32


def _nfkc_pieces(match: re.Match[str]) -> list[Piece]:
    """Normalise a run chunk by chunk: a character starts a new chunk unless it combines with
    the chunk before it (a combining mark, a Hangul vowel after its consonant), so each
    normalised character maps back to the few characters it came from."""
    run = match.group()
    start = match.start()
    pieces: list[Piece] = []
    chunk_start = 0
    if run[0].isascii() and len(run) > 1:
        # The ASCII character before the run joins it only when the marks after it compose
        # with it (`e` + U+0301, `=` + U+0338): a space or a gap left standing alone maps back
        # to itself, not to the whole stretch a gap stands for.
        marks = 1
        while marks < len(run) and unicodedata.combining(run[marks]):
            marks += 1
        alone_marks = unicodedata.normalize("NFKC", run[1:marks])
        if unicodedata.normalize("NFKC", run[:marks]) == run[0] + alone_marks:
            pieces.append((run[0], start, start + 1))
            chunk_start = 1
    normal = unicodedata.normalize("NFKC", run[chunk_start : chunk_start + 1])
    for position in range(1, len(run) + 1):
        if position < len(run):
            char = run[position]
            alone = unicodedata.normalize("NFKC", char)
            joined = unicodedata.normalize("NFKC", run[chunk_start : position + 1])
            if position - chunk_start < _MAX_CHUNK and (
                unicodedata.combining(char) or joined != normal + alone
            ):
                normal = joined
                continue
        pieces.extend((char, start + chunk_start, start + position) for char in normal)
        if position < len(run):
            chunk_start = position
            normal = alone
    return pieces


def nfkc_view(view: _View) -> _View | None:
    """Return the view in NFKC form, or None when it already is (an ASCII text always is)."""
    text = view.text
    if text.isascii() or unicodedata.is_normalized("NFKC", text.replace("\u2026", "")):
        return None
    if not view.mapped:  # only "is anything there?": the whole text at once, in C
        return _View(unicodedata.normalize("NFKC", text), (), mapped=False)
    return view.then(_WIDE, _nfkc_pieces)


WRAPPED_LINE_CHARS = 16
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_BREAK = re.compile(r"\r?\n(?=[A-Za-z0-9+/_-])")


def _joined(match: re.Match[str]) -> list[Piece] | None:
    text = match.string
    start = match.start()
    line = text[max(0, start - WRAPPED_LINE_CHARS) : start]
    if len(line) < WRAPPED_LINE_CHARS or not _BASE64_CHARS.issuperset(line):
        return None
    return [("", start, match.end())]


def wrapped(text: str) -> bool:
    """Return whether a line of the text may end inside wrapped base64 (`unwrapped_view` may
    find something to join)."""
    position = text.find("\n", WRAPPED_LINE_CHARS)
    while position != -1:  # most texts have lines, few have wrapped base64: look first
        line = text[position - WRAPPED_LINE_CHARS : position].rstrip("\r")
        if len(line) >= WRAPPED_LINE_CHARS - 1 and _BASE64_CHARS.issuperset(line):
            return True
        position = text.find("\n", position + 1)
    return False


_NULS = re.compile("\x00+")


def _dropped(match: re.Match[str]) -> list[Piece] | None:
    return [("", match.start(), match.end())]


def nul_free_view(view: _View) -> _View | None:
    """Return the view without its NUL characters; None: it has none.

    A body in UTF-16 or UTF-32 without a charset (or labelled UTF-8 wrongly) reads as UTF-8
    with a NUL beside each ASCII or Latin-1 character (`t\\x00o\\x00k\\x00`): without them it
    is the text the server meant.
    """
    return view.then(_NULS, _dropped) if nul_spaced(view.text) else None


# Three characters in a row each followed by one to three NULs: UTF-16 or UTF-32 read as UTF-8
# (not the single NUL that joins the texts `Redactor.occurs_in` searches at once).
_NUL_SPACED = re.compile("(?:[^\x00]\x00{1,3}){3}")
# What every match of _NUL_SPACED holds (its second character between NULs). Starting with a
# literal, it is found by a fast scan for NULs, not tried at every position: 20-30x faster on
# text whose only NULs join texts (`Redactor.occurs_in`), with the same answers.
_NUL_SPACED_CORE = re.compile("\x00[^\x00]\x00")


def nul_spaced(text: str) -> bool:
    """Return whether the text has NULs between its characters, as UTF-16 or UTF-32 read as
    UTF-8 has (a NUL-free view of it may hold more)."""
    return (
        "\x00" in text
        and _NUL_SPACED_CORE.search(text) is not None
        and _NUL_SPACED.search(text) is not None
    )


def unwrapped_view(view: _View) -> _View | None:
    """Return the view with the line breaks inside wrapped base64 removed; None: there are none."""
    return view.then(_BREAK, _joined) if wrapped(view.text) else None
