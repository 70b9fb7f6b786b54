"""Escapes undone by one normalising pass, in each reading of the ambiguous spellings."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from reqflo.engine.redaction.views import Piece, _View

# Normalising passes per view at most: each pass undoes one layer of every kind.
_MAX_PASSES = 8

# Every escape one pass undoes, by kind; at one position the first alternative that matches wins
# (`\\` before the `\u0041` it may be followed by, as a JSON reader does). The lookahead names
# every alternative's first character: the regular expression engine then skips to the next of
# them instead of trying each alternative at every position (7x faster on text without escapes;
# the matches are the same).
_ESCAPE = re.compile(
    r"(?=[%\\&+xX])(?:"
    r"(?P<pct>(?:%[0-9A-Fa-f]{2})+)"
    r"|(?P<pyx>(?:\\[xX][0-9A-Fa-f]{2})+)"
    r"|(?P<pair>\\[uU][dD][89abAB][0-9A-Fa-f]{2}\\[uU][dD][c-fC-F][0-9A-Fa-f]{2})"
    r"|(?P<u8>\\[uU][0-9A-Fa-f]{8})"
    r"|(?P<u4>\\[uU][0-9A-Fa-f]{4})"
    r"|(?P<simple>\\[\\\"/'bfnrtBFNRT])"
    # The `;` is optional, as for browsers and html.unescape (`&#x27` is `'` too).
    r"|(?P<html>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?)"
    r"|(?P<idna>[xX][nN]--[A-Za-z0-9-]+)"
    r"|(?P<plus>\+)"
    r")"
)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HINTS = ("%", "\\", "&", "+", "xn--")
# A reading that keeps `+` as itself has nothing to undo in a text whose only hint is a `+`.
_HINTS_KEEPING_PLUS = ("%", "\\", "&", "xn--")
# An escape the cut interrupted, in each spelling: it decodes to nothing yet, but belongs to the
# next character. Each is tried, as is no trimming, since a complete escape can look like the
# start of a longer one.
_PARTIAL_ESCAPES = tuple(
    re.compile(pattern + "$", re.IGNORECASE)
    for pattern in (
        r"%[0-9a-f]?",
        r"\\u[0-9a-f]{0,3}",
        r"\\u[0-9a-f]{0,7}",
        r"\\x[0-9a-f]?",
        r"\\",
        r"&#?x?[0-9a-z]{0,31}",
    )
)
# What a cut inside one character's escape leaves decoded: the first bytes of a UTF-8 sequence
# (kept as surrogate escapes) or the high half of a UTF-16 pair.
_HALF_CHARACTER = re.compile("[\ud800-\udfff]+$")
# How one normalisation reads the two ambiguous spellings: (`+` is a space, `\\xNN` runs are
# UTF-8 bytes).
Reading = tuple[bool, bool]
_READINGS: tuple[Reading, ...] = ((False, True), (True, True), (False, False), (True, False))


def _byte_pieces(raw: bytes, start: int, width: int, *, utf8: bool = True) -> list[Piece]:
    """Characters of `raw`, each with the span of its escapes (`width` characters per byte).

    UTF-8 sequences are one character; a byte that is not part of one stays a surrogate escape
    (it matches nothing, and a cut UTF-8 sequence is recognised as such). Without `utf8` each
    byte is the character of that code point (`repr()`'s `\\xe9` for `é`).
    """
    pieces: list[Piece] = []
    position = start
    decoded = raw.decode("utf-8", "surrogateescape") if utf8 else raw.decode("latin-1")
    for char in decoded:
        size = len(char.encode("utf-8", "surrogateescape")) if utf8 else 1
        pieces.append((char, position, position + width * size))
        position += width * size
    return pieces


def _html_text(entity: str) -> str | None:
    decoded = html.unescape(entity)
    if decoded == entity and entity[1] != "#":
        decoded = html.unescape(entity.lower())  # `&APOS;`: entities differ only by case
    return None if decoded == entity.lower() or decoded == entity else decoded


def _escape_pieces(reading: Reading) -> Callable[[re.Match[str]], list[Piece] | None]:
    plus, utf8 = reading

    def pieces(match: re.Match[str]) -> list[Piece] | None:
        kind = match.lastgroup
        escape = match.group()
        start, end = match.start(), match.end()
        if kind == "pct":
            return _byte_pieces(bytes.fromhex(escape.replace("%", "")), start, 3)
        if kind == "pyx":
            raw = bytes.fromhex(re.sub(r"\\[xX]", "", escape))
            return _byte_pieces(raw, start, 4, utf8=utf8)
        if kind == "pair":
            high, low = int(escape[2:6], 16), int(escape[8:12], 16)
            return [(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), start, end)]
        if kind == "u8":
            code = int(escape[2:], 16)
            # Python's `\\U0001f600`, also lower-cased; `\\u00e9` before hex digits (JSON's
            # escape, maybe upper-cased) is four digits, then text.
            if code <= 0x10FFFF and (escape[1] == "U" or code >= 0x10000):
                return [(chr(code), start, end)]
            rest = [(char, start + 6 + i, start + 7 + i) for i, char in enumerate(escape[6:])]
            return [(chr(int(escape[2:6], 16)), start, start + 6), *rest]
        if kind == "u4":
            return [(chr(int(escape[2:], 16)), start, end)]
        if kind == "simple":
            letter = escape[1]
            return [(_SIMPLE.get(letter.lower(), letter), start, end)]
        if kind == "html":
            decoded = _html_text(escape)
            # An entity of nothing (`&#1`: html.unescape drops it) stays as written.
            return [(char, start, end) for char in decoded] if decoded else None
        if kind == "idna":
            label = escape.lower().encode("ascii")
            try:
                text = label.decode("idna")
            except (UnicodeError, ValueError):
                # IDNA 2008 (the `idna` package httpx uses) encodes labels IDNA 2003 refuses
                # to decode: the Punycode underneath is read as it is.
                try:
                    text = label[4:].decode("punycode")
                except (UnicodeError, ValueError):
                    return None
            return [(char, start, end) for char in text]
        return [(" ", start, end)] if plus else None

    return pieces


_PIECES = {reading: _escape_pieces(reading) for reading in _READINGS}


def _normalise(view: _View, reading: Reading) -> _View:
    """Undo every escape, pass after pass, until the text no longer changes."""
    hints = _HINTS if reading[0] else _HINTS_KEEPING_PLUS
    for _ in range(_MAX_PASSES):
        if not any(hint in view.lowered for hint in hints):
            break
        decoded = view.then(_ESCAPE, _PIECES[reading])
        if decoded is None:
            break
        view = decoded
    return view


def _normals(view: _View) -> list[_View]:
    """Return the view's normal form in each reading of the ambiguous spellings that makes a
    difference; the first reads `+` as itself and `\\xNN` runs as UTF-8 (possibly `view`).

    Either spelling may be hidden under another layer (`%2B`, `&#92;x`), so the readings are
    told apart by their results, not by the text.
    """
    if not any(hint in view.lowered for hint in _HINTS):
        return [view]
    first = _normalise(view, (False, True))
    normals = [first]
    texts = {first.text}
    readings: list[Reading] = [(False, False)]
    if "+" in view.text or "+" in first.text:
        readings.extend([(True, True), (True, False)])
    for reading in readings:
        normal = _normalise(view, reading)
        if normal.text not in texts:
            texts.add(normal.text)
            normals.append(normal)
    # Layers may disagree: `\\xc2\\xa1\\\\xad` (repr() of bytes of repr() of "¡\xad") holds
    # UTF-8 in one layer and a single escaped byte in the next. A byte left over from the UTF-8
    # reading is read as the character of that code point too (same positions, same way back).
    if _LONE_BYTE.search(first.text):
        text = first.text.translate(_LONE_BYTES)
        if text not in texts:
            normals.append(_View(text, first.layers, mapped=first.mapped))
    return normals


# Escape kinds by the group of `_ESCAPE` that reads them; those of one kind start with the
# same character, so a match refused as of another kind hides none of this one.
_KINDS: dict[str, frozenset[str]] = {
    "%": frozenset({"pct"}),
    "\\": frozenset({"pyx", "pair", "u8", "u4", "simple"}),
    "&": frozenset({"html"}),
    "xn--": frozenset({"idna"}),
    "+": frozenset({"plus"}),
}
# Layers of one kind undone, one after another, at most.
_LAYER_DEPTH = 3


def _one_kind(kinds: frozenset[str]) -> Callable[[re.Match[str]], list[Piece] | None]:
    # `+` read as a space only by the `+` kind; `\\xNN` runs as UTF-8.
    pieces = _PIECES[(kinds == _KINDS["+"], True)]

    def decode(match: re.Match[str]) -> list[Piece] | None:
        return pieces(match) if match.lastgroup in kinds else None

    return decode


_ONE_KIND = {hint: _one_kind(kinds) for hint, kinds in _KINDS.items()}


def layer_views(view: _View) -> list[_View]:
    """Return the views of `view` with one kind of escape undone a layer at a time, up to
    _LAYER_DEPTH layers (e.g. only `%XX`, then only `&...;`), without `view` itself.

    A normalising pass undoes every kind at once, and so also the escapes a value holds of
    its own: a password `%41&lt%41` sent percent-encoded is `%2541&lt%2541`, which one pass
    reads as `%41<%41` and the normal form as `a<a` (too short to be searched for), so neither
    holds the value. Undone layer by layer, one view is the value as registered. Searched only
    while a registered value holds an escape (the redactor's `_escaped`).
    """
    found: list[_View] = []
    seen = {view.text}
    frontier = [view]
    for _ in range(_LAYER_DEPTH):
        following: list[_View] = []
        for source in frontier:
            for hint, decoder in _ONE_KIND.items():
                if hint not in source.lowered:
                    continue
                decoded = source.then(_ESCAPE, decoder)
                if decoded is not None and decoded.text not in seen:
                    seen.add(decoded.text)
                    found.append(decoded)
                    following.append(decoded)
        frontier = following
    return found


_LONE_BYTE = re.compile("[\udc80-\udcff]")
_LONE_BYTES = {0xDC00 + byte: byte for byte in range(0x80, 0x100)}


def normal_form(text: str, reading: Reading = (False, True)) -> str:
    """Return `text` with every escape undone (as the redactor reads a text), lower-cased."""
    return _normalise(_View(text, ()), reading).lowered


def _before_cut(text: str) -> set[str]:
    """Return the text as it may end before a cut: whole, or without a partial escape.

    The escape's first character may also be itself (`&a` is `&amp;` cut, or `&` and `a`).
    """
    ends = {text}
    for pattern in _PARTIAL_ESCAPES:
        partial = pattern.search(text)
        if partial is not None:
            ends.add(text[: partial.start()])
            ends.add(text[: partial.start() + 1])
    return {_HALF_CHARACTER.sub("", end) for end in ends} | ends
