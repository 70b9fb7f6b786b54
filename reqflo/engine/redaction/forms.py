"""The texts a secret registers and the lower-cased forms each is searched by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.redaction.escapes import _READINGS, normal_form
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
