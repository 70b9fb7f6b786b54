"""Mask secret values, in whatever spelling they take, everywhere evidence can reach.

A value travels in many spellings, stacked on each other: percent-encoded (either hex case, some
characters left as they are, `+` for a space), JSON-escaped once or twice (`\\u00e9`, a JSON
body echoed inside a JSON string), HTML entities (named, decimal, hex, any letter case),
backslash escapes (Python's `repr()` of a string or of its UTF-8 bytes, `unicode_escape`),
base64 (standard or URL alphabet, with or without padding, at any offset inside a longer value
such as `user:secret`), hex, IDNA labels, a changed letter case, and cut short anywhere.

The redactor does not list spellings or their combinations. It normalises instead, the text and
each secret alike:

- One pass decodes every escape it recognises, of every kind at once, left to right; passes
  repeat until nothing changes, so any number of layers in any order comes undone (the text's
  *normal form*). Two readings are ambiguous and are each tried: `+` as a space or as itself,
  and a run of `\\xNN` as UTF-8 bytes or as one character each (and, where layers disagree, a
  byte the UTF-8 reading leaves over as the character of that code point).
- Runs of base64 or hex characters are also decoded (every alignment; runs that do not decode
  to text are left alone), and the result normalised again: a base64 value whose text was
  escaped before encoding is found too, and base64 inside base64.
- Each view is searched for each secret's normal form without regard to letter case, and every
  match is mapped back to the characters of the original text, which are then masked.

Where the engine cut a text short (a body at the evidence limit, a long value in an assertion
marked with "…"), a secret may straddle the cut: its first characters are masked too, so no
prefix of a secret is left at a cut, also when the cut falls inside the escape of one character
(`%E2%82%A`, half of a `\\ud83d\\ude00` pair, `\\xc3\\xa`) or inside a base64 run.

Bounded work. The spellings are searched for only for a secret of at least MIN_SPELLED_CHARS
characters: a shorter one (a one-letter password) is masked where it stands as written and alone (no
letter or digit touching it: `x=a&y` and `"a"` are masked, the `a` of `data` is not), in any letter
case, and nowhere else, since its "spellings" would be every base64 run, every hex pair and every
escape of the text, and masking each of its letters everywhere would leave logs unreadable. The
secret store refuses values that short (`reqflo.secrets.validation`). The views of one text (and the
windows before its cuts) are built breadth first within a work budget of WORK_FACTOR characters per
character of the text (plus WORK_FLOOR): whatever the secrets and the text, a redaction costs at
most that much decoding. A text whose views would cost more is withheld whole (WITHHELD) rather than
shown half-checked.
A redactor given a `stop` callable asks it now and then during a long redaction and raises
RedactionStopped when it answers true (a cancelled run, a run past its time limit).

Known limit: a secret glued to an unfinished escape in the text before it (`\\` then a secret
starting with `n`) is read as that escape; its remaining characters are still masked only when
they are long enough to be recognised as the rest of the secret.
"""

from __future__ import annotations

import binascii
import html
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.redact_budget import (
    WITHHELD,
    OverBudget,
    spend,
    working,
)

REDACTED = "•••••"
CUT_MARK = "…"
# The shortest secret whose spellings (escapes, encodings, cuts) are searched for; a shorter
# one is masked only where it stands as written (any letter case).
MIN_SPELLED_CHARS = 4
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)

# Normalising passes per view at most: each pass undoes one layer of every kind.
_MAX_PASSES = 8
# How far before a cut a secret's first characters are looked for, in characters per character
# of the secret: a 4-byte UTF-8 character in hex, in hex again, as HTML entities takes 80.
_MAX_SPELLING = 96

# Every escape one pass undoes, by kind; at one position the first alternative that matches wins
# (`\\` before the `\u0041` it may be followed by, as a JSON reader does).
_ESCAPE = re.compile(
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
)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HINTS = ("%", "\\", "&", "+", "xn--")
# Base64 (both alphabets) and hex runs long enough to hold a secret's encoding are decoded too.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{2,}={0,2}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{2,}")
# Before a cut only the run the cut went through matters: the one at the end, however short
# (maybe followed by the start of an escape the cut interrupted, a level up: `&`, `%2`).
_BASE64_TAIL = re.compile(r"[A-Za-z0-9+/_-]{2,}={0,2}(?=.{0,3}$)", re.DOTALL)
_HEX_TAIL = re.compile(r"[0-9A-Fa-f]{2,}(?=.{0,3}$)", re.DOTALL)
_BASE64_TABLE = bytes.maketrans(b"-_", b"+/")
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

# (new_start, new_end, old_start, old_end): the characters [new_start, new_end) of a decoded
# view come from the characters [old_start, old_end) of the text it was decoded from.
Change = tuple[int, int, int, int]
Piece = tuple[str, int, int]
# How one normalisation reads the two ambiguous spellings: (`+` is a space, `\\xNN` runs are
# UTF-8 bytes).
Reading = tuple[bool, bool]
_READINGS: tuple[Reading, ...] = ((False, True), (True, True), (False, False), (True, False))


class _Layer:
    """The position map of one decoding step: a view's characters back to its source's."""

    __slots__ = ("changes", "starts")

    def __init__(self, changes: list[Change]) -> None:
        self.changes = changes
        self.starts = [c[0] for c in changes]

    def _old(self, position: int) -> tuple[int, int]:
        index = bisect_right(self.starts, position) - 1
        if index < 0:
            return position, position + 1
        _, new_end, old_start, old_end = self.changes[index]
        if position < new_end:
            return old_start, old_end
        old = old_end + (position - new_end)
        return old, old + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the source span of the view's characters [start, end) (end > start)."""
        return self._old(start)[0], self._old(end - 1)[1]


class _View:
    """A decoded text; `mapped` views know where each character came from (`span`), the
    others serve only to find out whether anything is there to map."""

    __slots__ = ("layers", "lowered", "mapped", "text")

    def __init__(
        self,
        text: str,
        layers: tuple[_Layer, ...],
        lowered: str | None = None,
        *,
        mapped: bool = True,
    ) -> None:
        spend(len(text))
        self.text = text
        self.layers = layers
        self.lowered = _lower(text) if lowered is None else lowered
        self.mapped = mapped

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the span of the original text that the view's [start, end) came from."""
        for layer in reversed(self.layers):
            start, end = layer.span(start, end)
        return start, end

    def then(
        self,
        pattern: re.Pattern[str],
        decoder: Callable[[re.Match[str]], list[Piece] | None],
        *,
        gaps: bool = False,
    ) -> _View | None:
        """Return the view with each match of `pattern` decoded; None when nothing changed.

        `gaps`: what is not decoded becomes one _GAP each (it was searched in an earlier view),
        so a view of the runs in a long text costs what the runs decode to, not the text.
        """
        if not self.mapped:
            text = _decode_text(self.text, pattern, decoder, gaps=gaps)
            return None if text is None else _View(text, (), mapped=False)
        decoded = _decode(self.text, pattern, decoder, gaps=gaps)
        if decoded is None:
            return None
        return _View(decoded[0], (*self.layers, decoded[1]))


def _lower(text: str) -> str:
    """Lower-case without changing the length, so positions stay the same."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _decode(
    text: str,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], list[Piece] | None],
    *,
    gaps: bool = False,
) -> tuple[str, _Layer] | None:
    """Replace each match by the pieces `replace` returns; None when nothing changed.

    `gaps`: the text between replaced matches becomes one _GAP each."""
    out: list[str] = []
    changes: list[Change] = []
    last = 0
    length = 0
    for match in pattern.finditer(text):
        pieces = replace(match)
        if pieces is None:
            continue
        if gaps:
            if match.start() > last:
                changes.append((length, length + 1, last, match.start()))
                out.append(_GAP)
                length += 1
        else:
            plain = text[last : match.start()]
            out.append(plain)
            length += len(plain)
        for piece, old_start, old_end in pieces:
            changes.append((length, length + len(piece), old_start, old_end))
            out.append(piece)
            length += len(piece)
        last = match.end()
    if not changes:
        return None
    if not gaps:
        out.append(text[last:])
    elif last < len(text):
        changes.append((length, length + 1, last, len(text)))
        out.append(_GAP)
    decoded = "".join(out)
    return (decoded, _Layer(changes)) if decoded != text else None


def _decode_text(
    text: str,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], list[Piece] | None],
    *,
    gaps: bool = False,
) -> str | None:
    """`_decode` without the way back (cheaper): the decoded text, or None when unchanged."""
    text_of = getattr(replace, "text", None)

    def one(match: re.Match[str]) -> str | None:
        if text_of is not None:
            decoded: str | None = text_of(match)
        else:
            pieces = replace(match)
            decoded = None if pieces is None else "".join(piece[0] for piece in pieces)
        return decoded

    if not gaps:
        decoded_text = pattern.sub(lambda match: _or_group(one(match), match), text)
        return None if decoded_text == text else decoded_text
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        decoded = one(match)
        if decoded is None:
            continue
        if match.start() > last:
            out.append(_GAP)
        out.append(decoded)
        last = match.end()
    if not out:
        return None
    if last < len(text):
        out.append(_GAP)
    return "".join(out)


def _or_group(decoded: str | None, match: re.Match[str]) -> str:
    return match.group() if decoded is None else decoded


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
            return None if decoded is None else [(char, start, end) for char in decoded]
        if kind == "idna":
            try:
                text = escape.lower().encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                return None
            return [(char, start, end) for char in text]
        return [(" ", start, end)] if plus else None

    return pieces


_PIECES = {reading: _escape_pieces(reading) for reading in _READINGS}


def _normalise(view: _View, reading: Reading) -> _View:
    """Undo every escape, pass after pass, until the text no longer changes."""
    for _ in range(_MAX_PASSES):
        if not any(hint in view.lowered for hint in _HINTS):
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


_LONE_BYTE = re.compile("[\udc80-\udcff]")
_LONE_BYTES = {0xDC00 + byte: byte for byte in range(0x80, 0x100)}


def normal_form(text: str, reading: Reading = (False, True)) -> str:
    """Return `text` with every escape undone (as the redactor reads a text), lower-cased."""
    return _normalise(_View(text, ()), reading).lowered


# Text, as opposed to what bytes that are not text decode to. A run is decoded only when it
# holds at least as much text in a row as the shortest secret (or ends in text, before a cut):
# most runs in evidence are words, ids and binary data, which decode to nothing of the kind.
_TEXT = "[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
_TEXT_TAIL = re.compile(f"{_TEXT}+[\ud800-\udfff]{{0,3}}$")
_text_stretches: dict[int, re.Pattern[str]] = {}


def _is_text(decoded: str, shortest: int) -> bool:
    if shortest <= 0:
        return _TEXT_TAIL.search(decoded) is not None
    stretch = _text_stretches.get(shortest)
    if stretch is None:
        stretch = _text_stretches.setdefault(shortest, re.compile(f"{_TEXT}{{{shortest},}}"))
    return stretch.search(decoded) is not None


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# What a stretch of a decoded run that cannot hold a secret becomes (one character for all).
_GAP = "\x00"


def _kept(decoded: str, shortest: int) -> list[tuple[int, int]] | None:
    """Return the stretches of a decoded run that may hold a secret: text at least as long as
    the shortest secret. None: keep all (a cut text, or a secret that is not all text)."""
    if shortest <= 0:
        return None
    stretch = _text_stretches.get(shortest)
    if stretch is None:
        stretch = _text_stretches.setdefault(shortest, re.compile(f"{_TEXT}{{{shortest},}}"))
    kept = [match.span() for match in stretch.finditer(decoded)]
    return None if kept == [(0, len(decoded))] else kept


def _collapse_pieces(out: list[Piece], shortest: int) -> list[Piece]:
    """Replace each stretch of decoded pieces that cannot hold a secret by one _GAP piece, so
    binary data decoded as if it were text costs next to nothing in later views."""
    kept = _kept("".join(piece[0] for piece in out), shortest)
    if kept is None:
        return out
    collapsed: list[Piece] = []
    last = 0
    for start, end in [*kept, (len(out), len(out))]:
        if start > last:
            collapsed.append((_GAP, out[last][1], out[start - 1][2]))
        collapsed.extend(out[start:end])
        last = end
    return collapsed


def _collapse_text(decoded: str, shortest: int) -> str:
    """`_collapse_pieces` for the text alone."""
    kept = _kept(decoded, shortest)
    if kept is None:
        return decoded
    out: list[str] = []
    last = 0
    for start, end in [*kept, (len(decoded), len(decoded))]:
        if start > last:
            out.append(_GAP)
        out.append(decoded[start:end])
        last = end
    return "".join(out)


def _base64_decoder(
    offset: int, shortest: int, keep: int
) -> Callable[[re.Match[str]], list[Piece] | None]:
    def pieces(match: re.Match[str]) -> list[Piece] | None:
        run = match.group().rstrip("=")[offset:]
        usable = len(run) - len(run) % 4
        if len(run) % 4 >= 2:
            usable = len(run)
        if usable < 2:
            return None
        chunk = run[:usable]
        try:
            raw = binascii.a2b_base64(
                chunk.encode("ascii").translate(_BASE64_TABLE) + b"=" * (-len(chunk) % 4)
            )
        except binascii.Error:
            return None
        if not _is_text(raw.decode("utf-8", "surrogateescape"), shortest):
            return None
        start = match.start() + offset
        out: list[Piece] = []
        for char, byte_start, byte_end in _byte_pieces(raw, 0, 1):
            first = start + (8 * byte_start) // 6
            last = start + (8 * byte_end - 1) // 6 + 1
            out.append((char, first, last))
        out = _collapse_pieces(out, keep)
        if out and usable == len(run) and match.group().endswith("="):
            # The padding belongs to the last character decoded.
            char, first, _ = out[-1]
            out[-1] = (char, first, match.end())
            usable = len(match.group()) - offset
        # The characters before the offset and after the decoded part stay as they are.
        lead = match.group()[:offset]
        lead_pieces = [(c, match.start() + i, match.start() + i + 1) for i, c in enumerate(lead)]
        tail_start = start + usable
        tail = match.group()[offset + usable :]
        tail_pieces = [(c, tail_start + i, tail_start + i + 1) for i, c in enumerate(tail)]
        return [*lead_pieces, *out, *tail_pieces]

    def text(match: re.Match[str]) -> str | None:
        run = match.group().rstrip("=")[offset:]
        usable = len(run) if len(run) % 4 >= 2 else len(run) - len(run) % 4
        if usable < 2:
            return None
        chunk = run[:usable].encode("ascii").translate(_BASE64_TABLE)
        try:
            raw = binascii.a2b_base64(chunk + b"=" * (-usable % 4))
        except binascii.Error:
            return None
        group = match.group()
        decoded = raw.decode("utf-8", "surrogateescape")
        if not _is_text(decoded, shortest):
            return None
        decoded = _collapse_text(decoded, keep)
        return group[:offset] + decoded + group[offset + usable :].lstrip("=")

    pieces.text = text  # type: ignore[attr-defined]
    return pieces


def _hex_decoder(
    offset: int, shortest: int, keep: int
) -> Callable[[re.Match[str]], list[Piece] | None]:
    def pieces(match: re.Match[str]) -> list[Piece] | None:
        run = match.group()[offset:]
        usable = len(run) - len(run) % 2
        if usable < 2:
            return None
        start = match.start() + offset
        lead = match.group()[:offset]
        lead_pieces = [(c, match.start() + i, match.start() + i + 1) for i, c in enumerate(lead)]
        tail = run[usable:]
        tail_pieces = [(c, start + usable + i, start + usable + i + 1) for i, c in enumerate(tail)]
        raw = bytes.fromhex(run[:usable])
        if not _is_text(raw.decode("utf-8", "surrogateescape"), shortest):
            return None
        decoded = _collapse_pieces(_byte_pieces(raw, start, 2), keep)
        return [*lead_pieces, *decoded, *tail_pieces]

    def text(match: re.Match[str]) -> str | None:
        group = match.group()
        run = group[offset:]
        usable = len(run) - len(run) % 2
        if usable < 2:
            return None
        decoded = bytes.fromhex(run[:usable]).decode("utf-8", "surrogateescape")
        if not _is_text(decoded, shortest):
            return None
        return group[:offset] + _collapse_text(decoded, keep) + run[usable:]

    pieces.text = text  # type: ignore[attr-defined]
    return pieces


RunDecoders = tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], list[Piece] | None]], ...]


def _run_decoders(
    base64_run: re.Pattern[str], hex_run: re.Pattern[str], shortest: int, keep: int = 0
) -> RunDecoders:
    """Decoders of base64 runs at each of 4 alignments and of hex runs at each of 2.

    `keep`: the decoded stretches shorter than this, or not text, become one _GAP (0: none).
    """
    return tuple(
        [(base64_run, _base64_decoder(offset, shortest, keep)) for offset in range(4)]
        + [(hex_run, _hex_decoder(offset, shortest, keep)) for offset in range(2)]
    )


def _any_text_run(text: str, decoders: RunDecoders) -> bool:
    """Return whether any run decodes to text with any of the decoders (one scan for all)."""
    base64_run = decoders[0][0]
    for match in base64_run.finditer(text):
        for pattern, decoder in decoders:
            decode = decoder.text  # type: ignore[attr-defined]
            if pattern is base64_run:
                if decode(match) is not None:
                    return True
            elif any(decode(inner) is not None for inner in pattern.finditer(match.group())):
                return True  # a hex run inside this run
    return False


# Before a cut: the run at the end, decoded if it ends in text.
_TAIL_DECODERS = _run_decoders(_BASE64_TAIL, _HEX_TAIL, 0)
# Levels of base64 or hex inside each other that are decoded.
_MAX_RUN_LEVELS = 4


# A number inside a secret structure is registered only when its text has at least this many
# characters: shorter ones ("1", "443", "true") say little, and masking them would mask every
# such digit run in the evidence. Strings are registered whatever their length.
MIN_NUMBER_LEAF = 4


def secret_texts(value: Any) -> list[str]:
    """Return every text that must be masked for the secret ``value``.

    A string or a number is its own text. A structure (object or array) registers its JSON text
    in both spellings the engine writes (spaced and compact) and every leaf inside it, because a
    journey can use one part (``{{ inputs.creds.password }}``) without the rest: each non-empty
    string, and each number whose text has at least ``MIN_NUMBER_LEAF`` characters. Booleans,
    null and mapping keys are never registered (they carry next to nothing, and keys are
    names, not values).
    """
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value] if value else []
    if numbers.is_number(value):
        return [numbers.text(value)]
    if not isinstance(value, Mapping | list | tuple):
        text = str(value)
        return [text] if text else []
    texts = [
        numbers.dumps(value, ensure_ascii=False),
        numbers.dumps(value, ensure_ascii=False, separators=(",", ":")),
    ]
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            if item:
                texts.append(item)
        elif numbers.is_number(item) and not isinstance(item, bool):
            text = numbers.text(item)
            if len(text) >= MIN_NUMBER_LEAF:
                texts.append(text)
    return texts


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


class Redactor:
    """Replace every registered secret, in any spelling, with REDACTED; grows as secrets are
    captured."""

    def __init__(
        self, secrets: Iterable[str] = (), *, stop: Callable[[], bool] | None = None
    ) -> None:
        self._added: set[str] = set()
        # Asked now and then during a long redaction: True stops it (RedactionStopped).
        self._stop = stop
        # Secrets shorter than MIN_SPELLED_CHARS, lower-cased: masked only as written, and
        # only where they stand alone (`_alone`).
        self._exact: tuple[str, ...] = ()
        self._short: tuple[re.Pattern[str], ...] = ()
        # The normal forms of every registered text (lower-cased, as written and with every
        # escape undone in each reading), longest first; all are searched so a string built
        # from a secret ("Bearer <token>") is masked whole.
        self._needles: tuple[str, ...] = ()
        # Normal forms ending in an unfinished escape (`abc%`): in a text the characters after
        # it may complete the escape, so they are searched without it, and the match is masked
        # up to and including the next character.
        self._cores: tuple[str, ...] = ()
        # The forms of the values themselves, without the strings built from them: a cut can
        # only leave the first characters of a value; the start of "Bearer <token>" reveals
        # nothing.
        self._values: tuple[str, ...] = ()
        self._marked = False
        # For "does any form occur as it is?" only the forms containing no other one matter
        # ("bearer <token>" cannot occur without "<token>"): fewer substring searches.
        self._probes: tuple[str, ...] = ()
        # The shortest base64 and hex runs that can hold the encoding of a value.
        self._run_decoders = _run_decoders(_BASE64_RUN, _HEX_RUN, 1)
        self.version = 0
        self.add(*secrets)

    def add(self, *values: Any, derived: bool = False) -> None:
        """Register secret values: each one's texts as `secret_texts` gives them (a structure
        by its JSON text and by every leaf inside it).

        `derived` marks strings built from already registered values ("Bearer <token>"): they
        cannot reveal anything new in evidence redacted earlier, so `version` stays the same.
        """
        fresh: list[str] = []
        for value in values:
            for text in secret_texts(value):
                if text in self._added:
                    continue
                self._added.add(text)
                fresh.append(text)
        short = {_lower(text) for text in fresh if len(text) < MIN_SPELLED_CHARS}
        if short - set(self._exact):
            self._exact = tuple(sorted({*self._exact, *short}, key=len, reverse=True))
            self._short = tuple(_alone(text) for text in self._exact)
            if not derived:
                self.version += 1
        fresh = [text for text in fresh if len(text) >= MIN_SPELLED_CHARS]
        if not fresh:
            return
        # A normal form shorter than that (`&amp;&amp;` is `&&`) would be found everywhere.
        forms = {
            form
            for text in fresh
            for form in _forms(text)
            if len(form) >= MIN_SPELLED_CHARS or form == _lower(text)
        }
        if not derived:
            self._values = tuple({*self._values, *forms})
            self._marked = any(CUT_MARK in value for value in self._values)
            shortest = min(len(text) for text in self._values)
            # A value with characters that are not text would not survive the collapsing.
            keep = 0 if any(_NOT_TEXT.search(value) for value in self._values) else shortest
            self._run_decoders = _run_decoders(
                re.compile(f"[A-Za-z0-9+/_-]{{{max(2, shortest)},}}={{0,2}}"),
                re.compile(f"[0-9A-Fa-f]{{{max(2, 2 * shortest - 2)},}}"),
                shortest,
                keep,
            )
        needles = set(self._needles)
        needles.update(forms)
        if len(needles) == len(self._needles):
            return
        self._needles = tuple(sorted(needles, key=len, reverse=True))
        cores = set(self._cores)
        for form in forms:
            for pattern in _PARTIAL_ESCAPES:
                partial = pattern.search(form)
                if partial is not None and partial.start() >= 3:
                    cores.add(form[: partial.start()])
        self._cores = tuple(cores)
        probes: list[str] = []
        for needle in reversed(self._needles):
            if not any(probe in needle for probe in probes):
                probes.append(needle)
        self._probes = tuple(probes)
        if not derived:
            self.version += 1

    def __bool__(self) -> bool:
        return bool(self._needles or self._exact)

    def texts(self) -> frozenset[str]:
        """Return every registered text (to mask the same values elsewhere, e.g. in logs)."""
        return frozenset(self._added)

    # -- finding -------------------------------------------------------------------------------

    def _views(
        self,
        text: str,
        lowered: str | None = None,
        *,
        short_runs: bool = False,
        mapped: bool = True,
    ) -> list[_View]:
        """Return the text and every normalised view of it, each with its way back.

        `short_runs`: decode the base64 or hex run at the end, however short (a cut text).
        """
        base = _View(text, (), lowered, mapped=mapped)
        normals = _normals(base)
        views = [base, *(view for view in normals if view is not base)]
        decoders = _TAIL_DECODERS if short_runs else self._run_decoders
        # Base64 or hex inside base64 (a token inside an encoded JSON document): decoded again.
        # Decoded bytes that are not text seldom hold a run long enough to be tried again.
        sources = normals[:1]  # base64 keeps its `+`
        seen = {view.text for view in views}
        for _ in range(_MAX_RUN_LEVELS):
            following: list[_View] = []
            for source in sources:
                if not _any_text_run(source.text, decoders):
                    continue
                for pattern, decoder in decoders:
                    decoded = source.then(pattern, decoder, gaps=not short_runs)
                    if decoded is None:
                        continue
                    for index, normal in enumerate(_normals(decoded)):
                        if normal.text in seen:
                            continue
                        seen.add(normal.text)
                        views.append(normal)
                        if index == 0:
                            following.append(normal)
            sources = following
        return views

    def _spans(
        self, text: str, cut: str | None, lowered: str | None = None
    ) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        lowered = _lower(text) if lowered is None else lowered
        for pattern in self._short:
            spans.extend(match.span() for match in pattern.finditer(lowered))
        # Positions are worked out only where something was found (the rare case).
        present = bool(self._needles) and (
            any(probe in lowered for probe in self._probes) or self._occurs(text, lowered)
        )
        views = self._views(text, lowered) if present else []
        for view in views:
            haystack = view.lowered
            for needle in self._needles:
                spans.extend(view.span(*found) for found in _found(haystack, needle, 0))
            for core in self._cores:
                spans.extend(view.span(*found) for found in _found(haystack, core, 1))
        if not self._values:
            return spans
        if cut == "end":
            spans.extend(self._cut_spans(text, len(text)))
        elif cut == "marks" and CUT_MARK in text:
            previous = -1
            position = text.find(CUT_MARK)
            while position != -1:
                spans.extend(self._cut_spans(text, position, self._window_floor(previous)))
                previous = position
                position = text.find(CUT_MARK, position + 1)
        return spans

    def _window_floor(self, previous_mark: int) -> int:
        """Where the window before a cut may start, given the mark before it (-1: none).

        No value spelled in any way holds the mark itself (base64 and hex never do, escapes
        decode to it only when the value has one), so a secret's first characters before a cut
        cannot reach back past the mark before it, and the windows of many marks cost no more
        than the text. A value with a "…" of its own gets whole windows (within the budget).
        """
        if previous_mark < 0 or self._marked:
            return 0
        return previous_mark + 1

    def _occurs(self, text: str, lowered: str | None = None) -> bool:
        """Return whether any form occurs in any view of the text (without positions)."""
        for view in self._views(text, lowered, mapped=False):
            haystack = view.lowered
            if any(probe in haystack for probe in self._probes):
                return True
            if any(core in haystack for core in self._cores):
                return True
        return False

    def _cut_spans(self, text: str, position: int, floor: int = 0) -> list[tuple[int, int]]:
        """Return the span of a secret's first characters that end where the text was cut."""
        values = self._values
        spend(_PER_CUT)
        offset = max(floor, position - _MAX_SPELLING * max(map(len, values), default=0))
        window = text[offset:position]
        if not window:
            return []
        spans: list[tuple[int, int]] = []
        # A partial escape may be spelled in the text itself or only in a decoded view of it.
        views = [
            view for end in _before_cut(window) if end for view in self._views(end, short_runs=True)
        ]
        for view in views:
            # A cut inside a run of base64 or hex leaves a character or two that decode to
            # nothing yet (and decode as text one level up): tried without them too.
            ends = {
                end
                for trim in range(4)
                for end in _before_cut(view.lowered[: len(view.lowered) - trim])
            }
            for haystack in ends:
                for needle in values:
                    for size in range(min(len(needle) - 1, len(haystack)), 0, -1):
                        if haystack.endswith(needle[:size]):
                            start, _ = view.span(len(haystack) - size, len(haystack))
                            spans.append((offset + start, position))
                            break
        return spans

    def occurs_in(self, texts: Iterable[str], cut_texts: Iterable[str] = ()) -> bool:
        """Return whether any registered value, in any spelling, appears in any of the texts.

        `cut_texts` were cut short at their end: a secret's first characters there count too.
        """
        if not self:
            return False
        texts = [text for text in texts if text]
        cut_texts = [text for text in cut_texts if text]
        # One copy of everything (no escape or run spans a NUL), viewed once.
        joined = "\x00".join(texts)
        lowered = _lower(joined)
        if any(pattern.search(lowered) for pattern in self._short):
            return True
        if not self._needles:
            return False
        size = len(joined) + sum(map(len, cut_texts))
        try:
            with working(size, self._stop):
                return self._occurs_in(texts, cut_texts, joined, lowered)
        except OverBudget:
            return True  # not checked in full: redacted (and withheld) to be safe

    def _occurs_in(self, texts: list[str], cut_texts: list[str], joined: str, lowered: str) -> bool:
        if any(probe in lowered for probe in self._probes) or self._occurs(joined, lowered):
            return True
        for text in texts:
            previous = -1
            position = text.find(CUT_MARK)
            while position != -1:
                if self._cut_spans(text, position, self._window_floor(previous)):
                    return True
                previous = position
                position = text.find(CUT_MARK, position + 1)
        return any(self._cut_spans(text, len(text)) for text in cut_texts)

    # -- masking -------------------------------------------------------------------------------

    def redact(self, text: str, *, cut: str | None = None) -> str:
        """Return text with every secret masked.

        `cut="end"`: the text was cut short at its end; `cut="marks"`: it was cut where "…"
        stands. A secret's first characters before a cut are masked too.
        """
        if not text or not self:
            return text
        if cut == "marks" and CUT_MARK not in text:
            cut = None  # nothing was cut in this text
        try:
            with working(len(text), self._stop):
                spans = self._spans(text, cut)
        except OverBudget:
            return WITHHELD
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        last = 0
        current_start, current_end = spans[0]
        for start, end in spans[1:]:
            if start <= current_end:
                current_end = max(current_end, end)
                continue
            out.append(text[last:current_start])
            out.append(REDACTED)
            last = current_end
            current_start, current_end = start, end
        out.append(text[last:current_start])
        out.append(REDACTED)
        out.append(text[current_end:])
        return "".join(out)

    def redact_obj(self, obj: Any, *, cut: str | None = None) -> Any:
        """Return a deep copy of plain data with every string (and mapping key) redacted."""
        if not self:
            return obj
        if isinstance(obj, str):
            return self.redact(obj, cut=cut)
        if isinstance(obj, Mapping):
            return {self.redact_obj(k): self.redact_obj(v, cut=cut) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v, cut=cut) for v in obj]
        if isinstance(obj, int | float) and not isinstance(obj, bool):
            text = str(obj)  # a float's shortest form, as JSON writes it
            if self.redact(text) != text:
                return REDACTED
        elif not isinstance(obj, bool) and obj is not None and self.redact(str(obj)) != str(obj):
            return REDACTED
        return obj

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return headers with sensitive ones masked entirely and secrets masked in the rest."""
        return {
            name: REDACTED if name.lower() in SENSITIVE_HEADERS else self.redact(value)
            for name, value in headers.items()
        }


# What the windows before one cut cost at least (in the budget's characters), however short.
_PER_CUT = 64


def _alone(short: str) -> re.Pattern[str]:
    """Match a short secret where it stands alone: an end that is a letter or digit must not
    touch another letter or digit (`a` in `x=a&b` and `"a"`, not in `data`); a symbol is
    matched wherever it stands."""
    before = r"(?<![^\W_])" if short[:1].isalnum() else ""
    after = r"(?![^\W_])" if short[-1:].isalnum() else ""
    return re.compile(before + re.escape(short) + after)


def _found(haystack: str, needle: str, extra: int) -> Iterator[tuple[int, int]]:
    """Yield the stretches of `haystack` that `needle` covers (overlapping matches merged into
    one stretch, so a needle matching at every position costs one stretch), each `extra`
    characters longer (within the haystack)."""
    size = len(needle) + extra
    found = haystack.find(needle)
    if found == -1:
        return
    start, end = found, found + size
    while True:
        found = haystack.find(needle, found + 1)
        if found == -1 or found > end:
            yield start, min(end, len(haystack))
            if found == -1:
                return
            start = found
        end = found + size


def _forms(text: str) -> set[str]:
    """Return the lower-cased forms a text is searched by: as written, and its normal form in
    each reading of the ambiguous spellings; for a text beyond ASCII, the same of its mojibake
    (its UTF-8 bytes read as Latin-1 or Windows-1252, as `http.server` reads a header and
    many echo services then answer it: `äöü` comes back as `Ã¤Ã¶Ã¼`)."""
    spelled = [text]
    if not text.isascii():
        raw = text.encode("utf-8")
        spelled += {raw.decode("latin-1"), raw.decode("cp1252", errors="replace")} - {text}
    forms = {
        form
        for each in spelled
        for form in (_lower(each), *(normal_form(each, reading) for reading in _READINGS))
    }
    forms.discard("")
    return forms
