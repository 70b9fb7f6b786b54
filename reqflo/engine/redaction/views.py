"""Decoded views of a text, each with the way back to the characters it came from."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable

from reqflo.engine.redaction.budget import spend

# (new_start, new_end, old_start, old_end): the characters [new_start, new_end) of a decoded
# view come from the characters [old_start, old_end) of the text it was decoded from.
Change = tuple[int, int, int, int]
Piece = tuple[str, int, int]
# What a stretch of a decoded run that cannot hold a secret becomes (one character for all).
_GAP = "\x00"


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
