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

Some spellings are no escape: they are *forms* of each secret, built once when it is registered
(`forms`): its Unicode normal forms, its mojibake (UTF-8 read as Latin-1 or Windows-1252, once or
twice), its bytes in a single-byte charset with `?` for what it lacks (`forms.reencoded`), its
case-folded NFKC form (IDNA's nameprep), the value without the whitespace at its ends
(`forms.trimmed`), and the pieces URL or form syntax divides it
into (`: / ? # [ ] @ & = ; \\`) that have at least MIN_SPELLED_CHARS characters. Two more views
undo what layout does to a text (`layout`): its NFKC form (when a value is beyond ASCII) and
base64 whose lines were wrapped (MIME, PEM).

A server may cut a value short itself: the first and the last max(ceil(n / 2), MIN_SPELLED_CHARS)
characters of each form of n characters of a value (not of its URL pieces or of strings built
from it) are searched for too, and each match is grown to the most of that form's first (or
last) characters standing there (`redactor._truncations`, `redactor._extended`): any cut to half
the value or more is masked, two searches per form.

Where the engine cut a text short (a body at the evidence limit, a long value in an assertion
marked with "…"), a secret may straddle the cut: its first characters are masked too, so no
prefix of a secret is left at a cut, also when the cut falls inside the escape of one character
(`%E2%82%A`, half of a `\\ud83d\\ude00` pair, `\\xc3\\xa`) or inside a base64 run.

Bounded work. The spellings are searched for only for a secret of at least MIN_SPELLED_CHARS
characters: a shorter one (a one-letter password) is masked where it stands as written and alone (no
letter or digit touching it: `x=a&y` and `"a"` are masked, the `a` of `data` is not; a letter
masked as part of another secret does not count, `Redactor._beside_masks`), in any letter case, and
nowhere else, since its "spellings" would be every base64 run, every hex pair and every
escape of the text, and masking each of its letters everywhere would leave logs unreadable. The
secret store refuses values that short (`reqflo.secrets.validation`). The views of one text (and the
windows before its cuts) are built breadth first within a work budget of WORK_FACTOR characters per
character of the text (plus WORK_FLOOR): whatever the secrets and the text, a redaction costs at
most that much decoding. A text whose views would cost more is withheld whole (WITHHELD) rather than
shown half-checked.
A redactor given a `stop` callable asks it now and then during a long redaction and raises
RedactionStopped when it answers true (a cancelled run, a run past its time limit).

Most evidence strings (numbers, header values, assertion sentences, small JSON bodies) have no
view but themselves: no escape hint but `+`, no wrapped base64 line, no base64 or hex run that
decodes to text, no NFKC form to search. The redactor recognises them with a few scans and
searches them as they are (`Redactor._bare`), and returns a text shorter than every form at once
(no view is longer than its text but the NFKC one); tests/engine/test_redaction_shortcuts.py
holds both shortcuts to the answers of the full path. The engine scans a step's strings joined
(`Redactor.step_scan`): the scan says which strings hold nothing and where the values stand in
the others, which `redact` then masks without searching again; base64 runs not seen before
are ruled out several at a time (`runs._decode_together`), their decodings first by a byte scan
that marks the bytes no text character can hold (`runs.may_hold_text`). The rows of one command
start from one registration of their common secrets (`Seeds`, `Redactor.copy`).
tests/engine/test_redaction_step_oracle.py holds a step redacted that way to the full path,
string by string.

Known limit: a secret glued to an unfinished escape in the text before it (`\\` then a secret
starting with `n`) is read as that escape; its remaining characters are still masked only when
they are long enough to be recognised as the rest of the secret.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reqflo.engine.redaction.budget import WITHHELD, RedactionStopped
    from reqflo.engine.redaction.constants import (
        CUT_MARK,
        MIN_SPELLED_CHARS,
        REDACTED,
        SENSITIVE_HEADERS,
    )
    from reqflo.engine.redaction.cuts import cut_text, trim_cut
    from reqflo.engine.redaction.escapes import normal_form
    from reqflo.engine.redaction.forms import MIN_NUMBER_LEAF, secret_texts
    from reqflo.engine.redaction.redactor import Redactor, Seeds

# The public names by module, imported on first use: `cuts` and `constants` are needed where
# nothing is redacted (validating a journey), the redactor's regular expressions are not.
_HOMES = {
    "WITHHELD": "budget",
    "RedactionStopped": "budget",
    "CUT_MARK": "constants",
    "MIN_SPELLED_CHARS": "constants",
    "REDACTED": "constants",
    "SENSITIVE_HEADERS": "constants",
    "cut_text": "cuts",
    "trim_cut": "cuts",
    "normal_form": "escapes",
    "MIN_NUMBER_LEAF": "forms",
    "secret_texts": "forms",
    "Redactor": "redactor",
    "Seeds": "redactor",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CUT_MARK",
    "MIN_NUMBER_LEAF",
    "MIN_SPELLED_CHARS",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "WITHHELD",
    "RedactionStopped",
    "Redactor",
    "Seeds",
    "cut_text",
    "normal_form",
    "secret_texts",
    "trim_cut",
]
