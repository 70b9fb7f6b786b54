"""Base64 and hex runs decoded (every alignment), kept only where they decode to text."""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from reqflo.engine.redaction.escapes import _byte_pieces
from reqflo.engine.redaction.views import _GAP, Piece

# Base64 (both alphabets) and hex runs long enough to hold a secret's encoding are decoded too.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{2,}={0,2}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{2,}")
# Before a cut only the run the cut went through matters: the one at the end, however short
# (maybe followed by the start of an escape the cut interrupted, a level up: `&`, `%2`).
_BASE64_TAIL = re.compile(r"[A-Za-z0-9+/_-]{2,}={0,2}(?=.{0,3}$)", re.DOTALL)
_HEX_TAIL = re.compile(r"[0-9A-Fa-f]{2,}(?=.{0,3}$)", re.DOTALL)
_BASE64_TABLE = bytes.maketrans(b"-_", b"+/")

# Text, as opposed to what bytes that are not text decode to. A run is decoded only when it
# holds at least as much text in a row as the shortest secret (or ends in text, before a cut):
# most runs in evidence are words, ids and binary data, which decode to nothing of the kind.
_TEXT = "[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
_TEXT_TAIL = re.compile(f"{_TEXT}+[\ud800-\udfff]{{0,3}}$")
_text_stretches: dict[int, re.Pattern[str]] = {}


# A run decodes to at most 3 bytes per 4 base64 characters (1 per 2 hex digits), and a
# character of text takes at least one byte: the decoders skip, without decoding, a run too
# short to give `shortest` characters (it could not pass `_is_text`).


def _is_text(decoded: str, shortest: int) -> bool:
    if shortest <= 0:
        return _TEXT_TAIL.search(decoded) is not None
    stretch = _text_stretches.get(shortest)
    if stretch is None:
        stretch = _text_stretches.setdefault(shortest, re.compile(f"{_TEXT}{{{shortest},}}"))
    return stretch.search(decoded) is not None


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


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
        if usable < 2 or usable * 3 // 4 < shortest:
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
        if usable < 2 or usable * 3 // 4 < shortest:
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
    pieces.shortest = shortest  # type: ignore[attr-defined]
    return pieces


def _hex_decoder(
    offset: int, shortest: int, keep: int
) -> Callable[[re.Match[str]], list[Piece] | None]:
    def pieces(match: re.Match[str]) -> list[Piece] | None:
        run = match.group()[offset:]
        usable = len(run) - len(run) % 2
        if usable < 2 or usable // 2 < shortest:
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
        if usable < 2 or usable // 2 < shortest:
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


def _any_text_run(text: str, decoders: RunDecoders, memo: dict[str, bool] | None = None) -> bool:
    """Return whether any run decodes to text with any of the decoders (one scan for all).

    `memo`: the answers for these decoders' runs so far (`_any_long_text_run`)."""
    shortest = getattr(decoders[0][1], "shortest", 0)
    if shortest > 0:
        return _any_long_text_run(text, decoders, shortest, memo)
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


def _any_long_text_run(
    text: str, decoders: RunDecoders, shortest: int, memo: dict[str, bool] | None = None
) -> bool:
    """`_any_text_run` for the decoders `_run_decoders` builds for a shortest value (> 0): the
    same answer as asking each decoder of each run, without the calls, and each distinct run
    tried once (a text often holds the same id several times).

    `memo` (run -> answer, for these decoders only) keeps the answers for the next texts: a
    redactor's own, so a step's runs (its URL path, the ids in it) are decoded once for the
    step's joined scan, each string's redaction and the later steps that repeat them. Runs
    longer than _MEMO_RUN_CHARS are not kept. The shorter runs not in the memo are ruled out
    together (`_decode_together`): four decodes and one search for all of them where none holds
    text (most: ids, paths, tokens), else each is decoded on its own.
    """
    base64_run, hex_run = decoders[0][0], decoders[4][0]
    stretch = _text_stretches.get(shortest)
    if stretch is None:
        stretch = _text_stretches.setdefault(shortest, re.compile(f"{_TEXT}{{{shortest},}}"))
    seen: dict[str, bool] = {} if memo is None else memo
    groups = _run_list(text, base64_run)
    if not groups:
        return False
    fresh: dict[str, None] = {}
    for group in groups:
        found = seen.get(group)
        if found is None:
            fresh[group] = None
        elif found:
            return True
    if not fresh:
        return False
    # Runs of ids and paths are ruled out together; a long one (a body) on its own, stopping
    # at the first alignment that holds text.
    short = [group for group in fresh if len(group) <= _MEMO_RUN_CHARS]
    if short and not _decode_together(short, hex_run, stretch, shortest):
        if len(seen) + len(short) > _MEMO_RUNS:
            seen.clear()  # (`_remember`'s bound, for the lot)
        if len(short) <= _MEMO_RUNS:
            seen.update(dict.fromkeys(short, False))
        if len(short) == len(fresh):
            return False
        fresh = {group: None for group in fresh if len(group) > _MEMO_RUN_CHARS}
    for group in fresh:
        found = _decodes_to_text(group, hex_run, stretch, shortest)
        _remember(seen, group, found)
        if found:
            return True
    return False


def _remember(memo: dict[str, bool], group: str, found: bool) -> None:
    if len(group) <= _MEMO_RUN_CHARS:
        if len(memo) >= _MEMO_RUNS:
            memo.clear()
        memo[group] = found


# Each base64 character as "A", every other byte (and each byte of a character beyond ASCII)
# as a space: the base64 runs of a text are its runs of "A" (`_runs`).
_RUN_MASK = bytes(
    65 if chr(byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-" else 32
    for byte in range(256)
)
# What `_runs` can read off a base64 run pattern: its class (this one) and its minimum length.
_RUN_PATTERN = re.compile(r"\[A-Za-z0-9\+/_-\]\{(\d+),\}=\{0,2\}")


@lru_cache(maxsize=64)
def _run_minimum(pattern: str) -> int | None:
    """Return the minimum length of a `[A-Za-z0-9+/_-]{n,}={0,2}` run pattern, None for any
    other pattern."""
    matched = _RUN_PATTERN.fullmatch(pattern)
    return int(matched.group(1)) if matched else None


def _runs(text: str, base64_run: re.Pattern[str]) -> Iterator[str]:
    """Yield the base64 runs `base64_run` finds in the text, without their `=` padding (which
    changes no decoding: `_decodings` strips it, and it holds no hex digit).

    For the run patterns `_run_decoders` is given (a class and a minimum length), the runs are
    found as runs of a byte in the text's bytes mapped by _RUN_MASK: two scans in C instead of
    the regular expression, which tries every position of every shorter word again at the next
    position. The runs are the same: the pattern's matches are the maximal runs of at least the
    minimum length (a match starts where a shorter run cannot have started, and takes the whole
    run), each followed by up to two `=`, which are no run characters.
    """
    minimum = _run_minimum(base64_run.pattern)
    if minimum is None or minimum < 1:
        for match in base64_run.finditer(text):
            yield match.group().rstrip("=")
        return
    raw = text.encode("utf-8", "surrogatepass")
    mask = raw.translate(_RUN_MASK)
    probe = b"A" * minimum
    at = mask.find(probe)
    while at != -1:
        end = mask.find(b" ", at + minimum)
        if end == -1:
            end = len(mask)
        yield raw[at:end].decode("ascii")
        at = mask.find(probe, end + 1)


def _run_list(text: str, base64_run: re.Pattern[str]) -> list[str]:
    """`list(_runs(text, base64_run))`, without a generator's resumptions."""
    minimum = _run_minimum(base64_run.pattern)
    if minimum is None or minimum < 1:
        return list(_runs(text, base64_run))
    raw = text.encode("utf-8", "surrogatepass")
    mask = raw.translate(_RUN_MASK)
    probe = b"A" * minimum
    at = mask.find(probe)
    found: list[str] = []
    while at != -1:
        end = mask.find(b" ", at + minimum)
        if end == -1:
            end = len(mask)
        found.append(raw[at:end].decode("ascii"))
        at = mask.find(probe, end + 1)
    return found


# The `A`s that pad a run of n characters to whole groups of four, by n % 4.
_PADDING = ("", "AAA", "AA", "A")


def _decode_together(
    groups: Iterable[str], hex_run: re.Pattern[str], stretch: re.Pattern[str], shortest: int
) -> bool:
    """Return False only when none of the base64 runs decodes to text (`_decodes_to_text`):
    True may also mean "maybe" (the caller then asks run by run).

    Every run is decoded at its four alignments by four decodes in all, not four per run: the
    runs, each padded with `A` to whole groups of four characters, are joined by `AAAA` and
    decoded behind 0 to 3 more `A`s, which puts the same alignment of every run on a group
    boundary. Each run's decoding at that alignment stands there whole, between bytes of the
    padding or the next run; those bytes may lengthen a stretch of text, never shorten one (a
    stretch starts with a character's first byte, which no sequence before it can take in, and
    decoding only looks forward), so a run that decodes to text still shows that text. The hex
    runs inside them (rare) are decoded one by one, as `_decodings` does. All is searched at
    once, joined by NULs (no text, and the end of any UTF-8 sequence).
    """
    groups = [group.rstrip("=") for group in groups]
    padded = (
        "AAAA".join([group + _PADDING[len(group) % 4] for group in groups])
        .encode("ascii")
        .translate(_BASE64_TABLE)
    )
    a2b = binascii.a2b_base64
    # Behind 0 to 3 more `A`s (and as many after, to whole groups): offsets 0, 1, 2 and 3.
    decoded = [
        a2b(padded),
        a2b(b"AAA" + padded + b"A"),
        a2b(b"AA" + padded + b"AA"),
        a2b(b"A" + padded + b"AAA"),
    ]
    spaced = " ".join(groups)
    if spaced.encode("ascii").translate(_HEX_MASK).find(b"H" * _hex_minimum(hex_run)) != -1:
        for digits in _hex_runs(spaced, hex_run):
            for offset in range(2):
                usable = len(digits) - offset - (len(digits) - offset) % 2
                if usable >= 2 and usable // 2 >= shortest:
                    decoded.append(bytes.fromhex(digits[offset : offset + usable]))
    joined = b"\x00".join(decoded)
    if not may_hold_text(joined, shortest):
        return False
    return stretch.search(joined.decode("utf-8", "surrogateescape")) is not None


# Each byte by what it can be in UTF-8 text: "a" ASCII text (`_TEXT`), "c" a continuation byte,
# "l" the lead byte of a sequence that may be valid, " " a byte that is never in a text
# character (an ASCII control, C0, C1 and F5 to FF, which no valid sequence holds).
_UTF8_CLASS = bytes(
    ord(
        "a"
        if byte < 0x80 and (byte in (9, 10, 13) or 0x20 <= byte < 0x7F)
        else "c"
        if 0x80 <= byte < 0xC0
        else "l"
        if 0xC2 <= byte <= 0xF4
        else " "
    )
    for byte in range(256)
)
_MAYBE_TEXT = bytes.maketrans(b"acl", b"ttt")


def may_hold_text(raw: bytes, shortest: int) -> bool:
    """Return False only when `raw` read as UTF-8 (`surrogateescape`) holds no stretch of
    `shortest` text characters in a row (`_TEXT`): a few byte scans instead of decoding and a
    regular expression that tries every position (the answer of most decoded runs of ids and
    paths). True means maybe.

    Exact for "no": each byte is marked as never part of a text character when it cannot be:
    an ASCII control, a byte no valid sequence holds, a continuation byte after an ASCII byte
    or after a marked one (in a valid sequence it follows its lead or a continuation of the
    same character), a lead byte not followed by a continuation (every valid multi-byte
    sequence has one; the decoder escapes such a lead alone). Every valid multi-byte sequence
    is a text character (U+0080 and beyond; encoded surrogates are invalid), and a text
    character takes at least one byte: `shortest` of them in a row stand on at least
    `shortest` unmarked bytes in a row. One pass of replacements marks most such bytes; a
    byte left unmarked only makes the answer "maybe".
    """
    mask = (
        raw.translate(_UTF8_CLASS)
        .replace(b"ac", b"a ")
        .replace(b" c", b"  ")
        .replace(b"la", b" a")
        .replace(b"l ", b"  ")
        .replace(b"ll", b" l")
    )
    return mask.translate(_MAYBE_TEXT).find(b"t" * max(shortest, 1)) != -1


def _hex_runs(text: str, hex_run: re.Pattern[str]) -> Iterator[str]:
    """Yield the texts of `hex_run.finditer(text)` in an ASCII text.

    For a `[0-9A-Fa-f]{n,}` pattern (what `_decoders_for` builds) they are the maximal runs of
    hex digits of at least n, found as runs of "H" in the text's bytes mapped by _HEX_MASK, as
    `_runs` finds base64 runs (a few scans in C instead of a regular expression that tries
    every position of every shorter run of digits again)."""
    matched = _HEX_PATTERN.fullmatch(hex_run.pattern)
    if matched is None or int(matched.group(1)) < 1:
        for inner in hex_run.finditer(text):
            yield inner.group()
        return
    minimum = int(matched.group(1))
    mask = text.encode("ascii").translate(_HEX_MASK)
    probe = b"H" * minimum
    at = mask.find(probe)
    while at != -1:
        end = mask.find(b" ", at + minimum)
        if end == -1:
            end = len(mask)
        yield text[at:end]
        at = mask.find(probe, end + 1)


# Each hex digit as "H", every other byte as a space (`_decode_together`).
_HEX_MASK = bytes(72 if chr(byte) in "0123456789abcdefABCDEF" else 32 for byte in range(256))
_HEX_PATTERN = re.compile(r"\[0-9A-Fa-f\]\{(\d+),\}")


@lru_cache(maxsize=64)
def _hex_minimum_of(pattern: str) -> int:
    matched = _HEX_PATTERN.fullmatch(pattern)
    return max(1, int(matched.group(1))) if matched else 1


def _hex_minimum(hex_run: re.Pattern[str]) -> int:
    """The minimum length of a `[0-9A-Fa-f]{n,}` pattern (1 for any other: every hex digit
    then counts as a possible run, and the pattern decides)."""
    return _hex_minimum_of(hex_run.pattern)


# A memo keeps at most this many runs of at most this many characters.
_MEMO_RUNS = 1024
_MEMO_RUN_CHARS = 256


def _decodes_to_text(
    group: str, hex_run: re.Pattern[str], stretch: re.Pattern[str], shortest: int
) -> bool:
    """Return whether the base64 run, at any alignment, or a hex run inside it decodes to
    `shortest` characters of text in a row.

    The decodings of a run of up to _MEMO_RUN_CHARS characters (ids, paths, tokens) are
    searched at once, joined by a NUL: a NUL is not text and ends any UTF-8 sequence, so no
    stretch of text spans two decodings and each decodes as it would alone (one decode and one
    search instead of up to six). A longer run is searched decoding by decoding, to stop at the
    first that holds text.
    """
    decodings = _decodings(group, hex_run, shortest)
    if len(group) > _MEMO_RUN_CHARS:
        return any(
            stretch.search(raw.decode("utf-8", "surrogateescape")) is not None for raw in decodings
        )
    joined = b"\x00".join(decodings)
    return stretch.search(joined.decode("utf-8", "surrogateescape")) is not None


def _decodings(group: str, hex_run: re.Pattern[str], shortest: int) -> Iterator[bytes]:
    """Yield the bytes of the base64 run at each alignment, then of each hex run inside it at
    each of its two, leaving out those too short to hold `shortest` characters."""
    encoded = group.rstrip("=").encode("ascii").translate(_BASE64_TABLE)
    for offset in range(4):
        run = encoded[offset:]
        usable = len(run) if len(run) % 4 >= 2 else len(run) - len(run) % 4
        if usable < 2 or usable * 3 // 4 < shortest:
            continue
        try:
            yield binascii.a2b_base64(run[:usable] + b"=" * (-usable % 4))
        except binascii.Error:
            continue
    for inner in hex_run.finditer(group):  # a hex run inside this run
        digits = inner.group()
        for offset in range(2):
            run_text = digits[offset:]
            usable = len(run_text) - len(run_text) % 2
            if usable < 2 or usable // 2 < shortest:
                continue
            yield bytes.fromhex(run_text[:usable])


# Before a cut: the run at the end, decoded if it ends in text.
_TAIL_DECODERS = _run_decoders(_BASE64_TAIL, _HEX_TAIL, 0)
# Levels of base64 or hex inside each other that are decoded.
_MAX_RUN_LEVELS = 4
