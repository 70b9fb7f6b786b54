"""Mask secret values, in whatever spelling they take, everywhere evidence can reach.

A value travels in many spellings: percent-encoded in URLs and form bodies (upper- or lower-case
hex, some characters left as they are, `+` for a space), JSON-escaped once or twice (a JSON body
echoed inside a JSON string), HTML-escaped, lower-cased or IDNA-encoded in a host name, and in
Python's own spellings, which third-party messages carry: `repr()` of a string (`'Pass\\xa0w'`)
or of its UTF-8 bytes (`b'P\\xc3\\xa4ss\\n'`). The redactor does not list spellings. It
normalises the text instead: it decodes it into "views" (percent-decoded, JSON-unescaped,
HTML-unescaped, IDNA-decoded, Python-unescaped as text or as bytes, and combinations of those),
compares each view with the registered values without regard to letter case, and maps every
match back to the characters of the original text, which are then masked.

Where the engine cut a text short (a body at the evidence limit, a long value in an assertion
marked with "…"), a secret may straddle the cut: its first characters are masked too, so no
prefix of a secret is left at a cut, also when the cut falls inside the escape of one character
(`%E2%82%A`, half of a `\\ud83d\\ude00` pair, `\\xc3\\xa`).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reqflo.engine import numbers

REDACTED = "•••••"
CUT_MARK = "…"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
)

# How many decoding steps are combined (e.g. a URL, percent-encoded, inside a JSON string that
# was JSON-escaped again: three), and how many distinct views of one text are searched at most.
_MAX_DEPTH = 3
_MAX_VIEWS = 24
# A character spelled in the longest way the views undo (a 4-byte UTF-8 character
# percent-encoded, then JSON-escaped twice) takes at most this many characters.
_MAX_SPELLING = 24

_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PERCENT_PLUS = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\+")
_JSON_ESCAPE = re.compile(
    r"\\(?:u[dD][89abAB][0-9A-Fa-f]{2}\\u[dD][c-fC-F][0-9A-Fa-f]{2}"  # a surrogate pair
    r"""|u[0-9A-Fa-f]{4}|["\\/bfnrt'])"""
)
# The `;` is optional, as for browsers and html.unescape (`&#x27` is `'` too).
_HTML_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
_IDNA_LABEL = re.compile(r"xn--[A-Za-z0-9-]+")
# Python's escapes in repr(): `\xNN` as one character (a str) or as one UTF-8 byte (bytes),
# `\UNNNNNNNN`; `\uNNNN`, `\n`, `\'` and the like are JSON's too.
_PY_CHAR = re.compile(r"\\x[0-9A-Fa-f]{2}|\\U[0-9A-Fa-f]{8}")
_PY_BYTES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
# An escape the cut interrupted, in each spelling: it
# decodes to nothing yet, but belongs to the next character. Each is tried, as is no trimming,
# since a complete escape can look like the start of a longer one.
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
_JSON_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

# (new_start, new_end, old_start, old_end): the characters [new_start, new_end) of a decoded
# view come from the characters [old_start, old_end) of the text it was decoded from.
Change = tuple[int, int, int, int]
Piece = tuple[str, int, int]


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
    __slots__ = ("layers", "lowered", "text")

    def __init__(self, text: str, layers: tuple[_Layer, ...], lowered: str | None = None) -> None:
        self.text = text
        self.layers = layers
        self.lowered = _lower(text) if lowered is None else lowered

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the span of the original text that the view's [start, end) came from."""
        for layer in reversed(self.layers):
            start, end = layer.span(start, end)
        return start, end


def _lower(text: str) -> str:
    """Lower-case without changing the length, so positions stay the same."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _decode(
    text: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], list[Piece] | None]
) -> tuple[str, _Layer] | None:
    """Replace each match by the pieces `replace` returns; None when nothing changed."""
    out: list[str] = []
    changes: list[Change] = []
    last = 0
    length = 0
    for match in pattern.finditer(text):
        pieces = replace(match)
        if pieces is None:
            continue
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
    out.append(text[last:])
    return "".join(out), _Layer(changes)


def _percent_pieces(match: re.Match[str]) -> list[Piece] | None:
    if match.group() == "+":
        return [(" ", match.start(), match.end())]
    raw = bytes.fromhex(match.group().replace("%", ""))
    pieces: list[Piece] = []
    position = match.start()
    # Bytes that are not UTF-8 stay as one character each (surrogate escapes): they match
    # nothing, but keep the positions of the characters around them right.
    for char in raw.decode("utf-8", "surrogateescape"):
        width = 3 * len(char.encode("utf-8", "surrogateescape"))
        pieces.append((char, position, position + width))
        position += width
    return pieces


def _json_pieces(match: re.Match[str]) -> list[Piece] | None:
    escape = match.group()
    kind = escape[1]
    if len(escape) == 12:  # a UTF-16 surrogate pair: one character
        high, low = int(escape[2:6], 16), int(escape[8:12], 16)
        char = chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    elif kind == "u":
        char = chr(int(escape[2:], 16))
    else:
        char = _JSON_SIMPLE.get(kind, kind)
    return [(char, match.start(), match.end())]


def _py_char_pieces(match: re.Match[str]) -> list[Piece] | None:
    code = int(match.group()[2:], 16)
    if code > 0x10FFFF:
        return None
    return [(chr(code), match.start(), match.end())]


def _py_bytes_pieces(match: re.Match[str]) -> list[Piece] | None:
    raw = bytes.fromhex(match.group().replace("\\x", ""))
    pieces: list[Piece] = []
    position = match.start()
    for char in raw.decode("utf-8", "surrogateescape"):
        width = 4 * len(char.encode("utf-8", "surrogateescape"))
        pieces.append((char, position, position + width))
        position += width
    return pieces


def _html_pieces(match: re.Match[str]) -> list[Piece] | None:
    decoded = html.unescape(match.group())
    if decoded == match.group():
        return None
    return [(char, match.start(), match.end()) for char in decoded]


def _idna_pieces(match: re.Match[str]) -> list[Piece] | None:
    try:
        decoded = match.group().lower().encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        return None
    return [(char, match.start(), match.end()) for char in decoded]


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

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._added: set[str] = set()
        # Lower-cased registered texts, longest first; all are searched so a string built from
        # a secret ("Bearer <token>") is masked whole.
        self._needles: tuple[str, ...] = ()
        # The values themselves, without the strings built from them: a cut can only leave the
        # first characters of a value; the start of "Bearer <token>" reveals nothing.
        self._values: tuple[str, ...] = ()
        # For "does any secret occur?" only the values containing no other registered value
        # matter ("bearer <token>" cannot occur without "<token>"): fewer substring searches.
        self._probes: tuple[str, ...] = ()
        self._space = False
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
                fresh.append(_lower(text))
        if not fresh:
            return
        if not derived:
            self._values = tuple({*self._values, *fresh})
        needles = set(self._needles)
        needles.update(fresh)
        if len(needles) == len(self._needles):
            return
        self._needles = tuple(sorted(needles, key=len, reverse=True))
        probes: list[str] = []
        for needle in reversed(self._needles):
            if not any(probe in needle for probe in probes):
                probes.append(needle)
        self._probes = tuple(probes)
        self._space = any(" " in needle for needle in self._needles)
        if not derived:
            self.version += 1

    def __bool__(self) -> bool:
        return bool(self._needles)

    def texts(self) -> frozenset[str]:
        """Return every registered text (to mask the same values elsewhere, e.g. in logs)."""
        return frozenset(self._added)

    # -- finding -------------------------------------------------------------------------------

    def _views(self, text: str, lowered: str | None = None) -> list[_View]:
        """Return the text and every decoded view of it, each with its way back."""
        base = _View(text, (), lowered)
        views = [base]
        if not self._might_decode(text, base.lowered):
            return views
        seen = {text}
        frontier = [base]
        for _ in range(_MAX_DEPTH):
            following: list[_View] = []
            for view in frontier:
                for decoded in self._decodings(view.text, view.lowered):
                    new_text, layer = decoded
                    if new_text in seen or len(views) >= _MAX_VIEWS:
                        continue
                    seen.add(new_text)
                    child = _View(new_text, (*view.layers, layer))
                    views.append(child)
                    following.append(child)
            if not following:
                break
            frontier = following
        return views

    def _might_decode(self, text: str, lowered: str) -> bool:
        return (
            "%" in text
            or "\\" in text
            or "&" in text
            or (self._space and "+" in text)
            or "xn--" in lowered
        )

    def _decodings(self, text: str, lowered: str) -> Iterable[tuple[str, _Layer]]:
        candidates: list[tuple[str, _Layer] | None] = []
        if "%" in text:
            candidates.append(_decode(text, _PERCENT, _percent_pieces))
        if self._space and "+" in text:
            candidates.append(_decode(text, _PERCENT_PLUS, _percent_pieces))
        if "\\" in text:
            candidates.append(_decode(text, _JSON_ESCAPE, _json_pieces))
            if "\\x" in text or "\\U" in text:
                candidates.append(_decode(text, _PY_CHAR, _py_char_pieces))
            if "\\x" in text:
                candidates.append(_decode(text, _PY_BYTES, _py_bytes_pieces))
        if "&" in text:
            candidates.append(_decode(text, _HTML_ENTITY, _html_pieces))
        if "xn--" in lowered:
            candidates.append(_decode(text, _IDNA_LABEL, _idna_pieces))
        return [c for c in candidates if c is not None]

    def _spans(
        self, text: str, cut: str | None, lowered: str | None = None
    ) -> list[tuple[int, int]]:
        lowered = _lower(text) if lowered is None else lowered
        spans: list[tuple[int, int]] = []
        for view in self._views(text, lowered):
            haystack = view.lowered
            for needle in self._needles:
                found = haystack.find(needle)
                while found != -1:
                    spans.append(view.span(found, found + len(needle)))
                    found = haystack.find(needle, found + 1)
        if cut == "end":
            spans.extend(self._cut_spans(text, len(text)))
        elif cut == "marks" and CUT_MARK in text:
            position = text.find(CUT_MARK)
            while position != -1:
                spans.extend(self._cut_spans(text, position))
                position = text.find(CUT_MARK, position + 1)
        return spans

    def _cut_spans(self, text: str, position: int) -> list[tuple[int, int]]:
        """Return the span of a secret's first characters that end where the text was cut."""
        values = self._values
        offset = max(0, position - _MAX_SPELLING * max(map(len, values), default=0))
        window = text[offset:position]
        if not window:
            return []
        spans: list[tuple[int, int]] = []
        # A partial escape may be spelled in the text itself or only in a decoded view of it.
        views = [view for end in _before_cut(window) if end for view in self._views(end)]
        for view in views:
            for haystack in _before_cut(view.lowered):
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
        if not self._needles:
            return False
        texts = [text for text in texts if text]
        # One lower-cased copy of everything, searched once per probe: most steps end here.
        joined = "\x00".join(texts)
        lowered = _lower(joined)
        probes = self._probes
        for probe in probes:
            if probe in lowered:
                return True
        if CUT_MARK in joined and any(self._spans(t, "marks") for t in texts if CUT_MARK in t):
            return True
        if self._might_decode(joined, lowered):
            for text in texts:
                text_lowered = _lower(text)
                if not self._might_decode(text, text_lowered):
                    continue
                for view in self._views(text, text_lowered)[1:]:
                    if any(probe in view.lowered for probe in probes):
                        return True
        return any(self._spans(text, "end") for text in cut_texts if text)

    # -- masking -------------------------------------------------------------------------------

    def redact(self, text: str, *, cut: str | None = None) -> str:
        """Return text with every secret masked.

        `cut="end"`: the text was cut short at its end; `cut="marks"`: it was cut where "…"
        stands. A secret's first characters before a cut are masked too.
        """
        if not text or not self._needles:
            return text
        if cut == "marks" and CUT_MARK not in text:
            cut = None  # nothing was cut in this text
        lowered = _lower(text)
        if cut is None and not self._might_decode(text, lowered):
            for probe in self._probes:
                if probe in lowered:
                    break
            else:
                return text  # the common case: nothing to mask, nothing to decode
        spans = self._spans(text, cut, lowered)
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
        if not self._needles:
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
