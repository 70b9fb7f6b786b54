"""The texts a secret registers and the lower-cased forms each is searched by."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.redaction.constants import MIN_SPELLED_CHARS
from reqflo.engine.redaction.escapes import _HINTS, _READINGS, normal_form
from reqflo.engine.redaction.views import _lower

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


def _forms(text: str) -> set[str]:
    """Return the lower-cased forms a text is searched by: each of its spellings (`spellings`)
    as written and with every escape undone in each reading of the ambiguous ones, and the NFKC
    form of each (a text that is not NFKC-normalised is searched in its NFKC form too, so any of
    the four Unicode normal forms of any spelling is found)."""
    if text.isascii():
        lowered = text.lower()
        if not any(hint in lowered for hint in _HINTS):
            # Its only spelling is itself, no reading undoes anything in it, and it is NFKC
            # already: its one form is itself lower-cased (most tokens, keys and passwords).
            return {lowered} if lowered else set()
    return _all_forms(text)


def _all_forms(text: str) -> set[str]:
    """`_forms` worked out in full, for every text (the shortcut's reference)."""
    forms: set[str] = set()
    for each in spellings(text):
        for form in (_lower(each), *(normal_form(each, reading) for reading in _READINGS)):
            forms.add(form)
            if not form.isascii():
                forms.add(_lower(unicodedata.normalize("NFKC", form)))
    forms.discard("")
    return forms


# Mojibake layers searched for: a text beyond ASCII read as Latin-1 or Windows-1252 once, or
# twice (a service that mangled an already mangled value).
MOJIBAKE_LAYERS = 2
_MOJIBAKE_CODECS = ("latin-1", "cp1252")


def spellings(text: str) -> set[str]:
    """Return the spellings of a text that no escape undoes, for a text beyond ASCII.

    - Unicode normal forms NFC and NFD (macOS and many clients send NFD), and NFKC of the
      case-folded text (what IDNA's nameprep makes of a host label: `ß` becomes `ss`);
    - mojibake: the UTF-8 bytes of each read as Latin-1 or Windows-1252 (as `http.server` reads
      a header and many echo services then answer it: `äöü` comes back as `Ã¤Ã¶Ã¼`), up to
      MOJIBAKE_LAYERS times in any order.

    - its bytes in a single-byte encoding (`?` for what it lacks) read as UTF-8 (a body
      labelled UTF-8 wrongly), as Latin-1 (a header) or as Windows-1252 (`reencoded`).

    An ASCII text has only itself.
    """
    if text.isascii():
        return {text}
    bases = {
        text,
        unicodedata.normalize("NFC", text),
        unicodedata.normalize("NFD", text),
    }
    spelled = {*bases, unicodedata.normalize("NFKC", text.casefold())}
    layer = bases
    for _ in range(MOJIBAKE_LAYERS):
        layer = {
            mangled
            for each in layer
            for codec in _MOJIBAKE_CODECS
            if (mangled := each.encode("utf-8").decode(codec, errors="replace")) != each
        }
        spelled |= layer
    return spelled | reencoded(text)


# Single-byte encodings a server may answer a text beyond ASCII in, whose bytes read as UTF-8
# are not the text: Latin-1 or Windows-1252 labelled UTF-8 (a common servlet default:
# `Passw\ufffdrd`), or ASCII with `?` for what it cannot hold. (UTF-16 and UTF-32 read as UTF-8
# put a NUL beside each character: the redactor searches a text with NULs without them,
# `layout.nul_free_view`.)
_NARROW_CODECS = ("latin-1", "cp1252", "ascii")


# How bytes in one of those encodings are read back: as the engine reads a body (UTF-8,
# invalid bytes replaced by U+FFFD), as httpx reads a header (Latin-1) and as a body declared
# Latin-1 or Windows-1252 is read.
_READ_BACK = ("utf-8", "latin-1", "cp1252")


def reencoded(text: str) -> set[str]:
    """Return, for a text beyond ASCII, its bytes in each of _NARROW_CODECS (`?` for a
    character the codec lacks) read back in each of _READ_BACK (U+FFFD for a byte that reading
    lacks): `pässwörd€42x` sent back in Latin-1 is read as `pässwörd?42x` (Latin-1), as
    `p\ufffdssw\ufffdrd?42x` (UTF-8); in ASCII as `p?ssw?rd?42x`. At most nine texts."""
    if text.isascii():
        return set()
    found: set[str] = set()
    for codec in _NARROW_CODECS:
        try:
            data = text.encode(codec, errors="replace")
        except UnicodeError:  # a lone surrogate
            continue
        for reading in _READ_BACK:
            found.add(data.decode(reading, errors="replace"))
    found.discard(text)
    return found


def trimmed(texts: list[str]) -> list[str]:
    """Return each text without the whitespace at its ends, where it has some and what is left
    has at least MIN_SPELLED_CHARS characters: header values and many servers strip a value
    (`Hunter2Secret ` comes back as `Hunter2Secret`). A shorter remainder is not searched for
    (it would be a short secret's "spelling" everywhere); the text itself still is."""
    found: list[str] = []
    for text in texts:
        stripped = text.strip()
        if stripped != text and len(stripped) >= MIN_SPELLED_CHARS:
            found.append(stripped)
    return found


# Where URL and form syntax may divide a value: RFC 3986's delimiters (`: / ? # [ ] @`), the
# form separators `& = ;` and `\\` (which WHATWG URL parsers read as `/`). A value used in a URL
# is cut by the parser at SOME of them, depending on where it lands (`?` starts the query, `&` a
# new field, `/..` removes a segment; a path keeps `@ & = ; :`), and servers echo the pieces,
# re-joined their own way.
_URL_SYNTAX = re.compile(r"([:/?#\[\]@&=;\\])")
# The schemes every URL the engine sends or shows starts with: public, no piece of a secret.
# Any other word before `://` (`A00123://…`, `redis://…`) is the secret's like the rest.
_SCHEME = re.compile(r"(?:https?|wss?)://", re.IGNORECASE)


def url_pieces(text: str) -> list[str]:
    """Return the pieces URL syntax may divide `text` into that are long enough to be recognised.

    A parser cuts a value at a subset of the delimiters (which subset depends on the part of
    the URL the value lands in), so a piece is the text between two cuts (or an end of the
    value), the delimiters it was not cut at included: `c@Rk,\\elp#/6EX` gives `c@Rk,\\elp`
    (what a path keeps whole) as well as `elp`, `6EX` — and, where two delimiters meet, a piece
    that ends or starts with one: `j1o:#rest` cut at `#` leaves `j1o:` (a path keeps the `:`,
    the fragment goes). For k delimiters that is at most (k+1)(k+2)/2 pieces. A piece is masked
    like a secret of its own when it has at least MIN_SPELLED_CHARS characters, delimiters
    counted (they are the secret's characters too), and is not delimiters alone nor whitespace
    alone (the `    ` of `01:    ` would mask the spaces of any text); shorter pieces
    are not (`j1o` or `ab` would be found everywhere). Dot-segment removal (`a/../b`) only drops
    whole parts, so it adds none. The scheme of a value that is itself an http(s) or ws(s) URL
    is no piece: it is public and in every URL (another word before `://` is a piece).
    """
    if not _URL_SYNTAX.search(text):
        return []
    scheme = _SCHEME.match(text)
    rest = text[scheme.end() :] if scheme else text
    # Alternating parts and delimiters: part, delim, part, ..., part.
    split = _URL_SYNTAX.split(rest)
    parts = split[0::2]
    found: dict[str, None] = {}
    for first in range(len(parts)):
        for last in range(first, len(parts)):
            piece = "".join(split[2 * first : 2 * last + 1])
            if (
                len(piece) >= MIN_SPELLED_CHARS
                and piece != text
                and any(parts[first : last + 1])  # not delimiters alone
                and not piece.isspace()  # nor whitespace alone: none of the value is in it
            ):
                found[piece] = None
    return list(found)
