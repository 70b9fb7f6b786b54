"""A secret cut at the evidence limit inside three stacked encodings leaves none of its characters.

base64 of a JSON document whose string holds the percent-encoded secret (an `Authorization`-like
value a server wraps and echoes), cut anywhere: whatever is left before the cut, decoded through
all three layers again, shows no first character of the secret.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.redaction import MIN_SPELLED_CHARS, REDACTED, Redactor

CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))


def _revealed(kept: str) -> str:
    """What the kept base64 shows of the secret, decoded through the three layers."""
    run = kept[len("data=") :]
    decoded = base64.b64decode(run[: len(run) - len(run) % 4]).decode("utf-8", "replace")
    marker = '{"v": "'
    if not decoded.startswith(marker):
        return ""
    inner = decoded[len(marker) :].split('"')[0]
    cut = inner.rfind("%")
    if cut != -1 and len(inner) - cut < 3:
        inner = inner[:cut]  # an escape the cut interrupted
    return unquote(inner, errors="replace")


@settings(max_examples=60, deadline=None)
@given(secret=st.text(CHARACTERS, min_size=MIN_SPELLED_CHARS + 2, max_size=24), data=st.data())
def test_a_secret_cut_inside_base64_of_json_of_percent_encoding_leaves_no_prefix(
    secret: str, data: st.DataObject
) -> None:
    wrapped = (
        "data=" + base64.b64encode(json.dumps({"v": quote(secret, safe="")}).encode()).decode()
    )
    start = len("data=") + len(base64.b64encode(b'{"v": "'))
    cut = data.draw(st.integers(start, len(wrapped) - 1))
    masked = Redactor([secret]).redact(wrapped[:cut], cut="end")
    revealed = _revealed(masked.split(REDACTED)[0])
    assert not (revealed and secret.startswith(revealed)), (revealed, masked)
