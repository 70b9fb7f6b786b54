"""The steps the editor page does not show, carried in one hidden field.

A 1,500-step journey cannot be 1,500 step forms on one page (11 MB of HTML, seconds per
button). The page shows the selected step's form and carries every step in ``steps-packed``:
the steps' form state (``StepForm``, exactly as typed) as JSON, zlib-compressed and base64'd.
Posted ``steps-N-*`` fields (the step on screen) replace step N of the packed list, so a post
still describes the whole journey and the server stays stateless.

The field is what the user sent; it is read like any posted field: bounded when inflated,
and anything that does not read as a list of steps is ignored (the posted fields remain).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from reqflo.journeys.editor.state import AssertionRow, OutputRow, PairRow, StepForm

FIELD = "steps-packed"
# Inflated at most this much: a 1,500-step journey is about 0.5 MB of form state.
MAX_INFLATED = 32 * 1024 * 1024

_STEP_TEXT = (
    "id",
    "name",
    "method",
    "url",
    "body_kind",
    "body",
    "timeout_ms",
    "retries_count",
    "retries_delay_ms",
    "extra",
    "sent_ids",
)


def pack_steps(steps: list[StepForm]) -> str:
    """Return ``steps`` as the hidden field's text."""
    # vars() rather than dataclasses.asdict, whose deep copies cost 10x as much here.
    items = [
        {
            **vars(step),
            "assertions": [vars(row) for row in step.assertions],
            "outputs": [vars(row) for row in step.outputs],
            "headers": [[row.name, row.value] for row in step.headers],
            "query": [[row.name, row.value] for row in step.query],
        }
        for step in steps
    ]
    raw = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(raw.encode(), 1)).decode("ascii")


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key, "")
    return value if isinstance(value, str) else ""


def _step(item: Any) -> StepForm | None:
    if not isinstance(item, dict):
        return None
    step = StepForm(always=item.get("always") is True)
    for key in _STEP_TEXT:
        setattr(step, key, _text(item, key))
    step.method = step.method or "GET"
    step.body_kind = step.body_kind or "none"
    for row in item.get("assertions") or []:
        if isinstance(row, dict):
            step.assertions.append(
                AssertionRow(
                    type=_text(row, "type") or "status_code",
                    operator=_text(row, "operator"),
                    target=_text(row, "target"),
                    expected=_text(row, "expected"),
                    soft=row.get("soft") is True,
                )
            )
    for key, rows in (("headers", step.headers), ("query", step.query)):
        for pair in item.get(key) or []:
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair):
                rows.append(PairRow(pair[0], pair[1]))
    for row in item.get("outputs") or []:
        if isinstance(row, dict):
            step.outputs.append(
                OutputRow(
                    name=_text(row, "name"),
                    source=_text(row, "source") or "body",
                    path=_text(row, "path"),
                    secret=row.get("secret") is True,
                )
            )
    return step


def unpack_steps(text: str) -> list[StepForm] | None:
    """Return the steps of a posted ``steps-packed`` field, or None when there is none.

    Text that does not decode to a list of steps counts as none; an item that is not a step
    is dropped.
    """
    if not text:
        return None
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(text, validate=True), MAX_INFLATED)
        if inflater.unconsumed_tail:
            return None
        items = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError):
        return None
    if not isinstance(items, list):
        return None
    return [step for step in map(_step, items) if step is not None]
