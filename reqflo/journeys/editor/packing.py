"""The steps the editor page does not show, carried in one hidden field, and their memory.

A 1,500-step journey cannot be 1,500 step forms on one page (11 MB of HTML, seconds per
button). The page shows the selected step's form and carries every step in ``steps-packed``:
the steps' form state (``StepForm``, exactly as typed) as a JSON list with one step per line,
zlib-compressed and base64'd. Posted ``steps-N-*`` fields (the step on screen) replace step N
of the packed list, so a post still describes the whole journey and the server stays stateless.

The field is what the user sent; it is read like any posted field: bounded when inflated,
and anything that does not read as a list of steps is ignored (the posted fields remain).

Every button posts every step, although one changed at most. ``StepMemory`` remembers, per
process, what each distinct step text reads as (its ``StepForm``) and the document's step it
builds (``building.step_item``), keyed by the exact text, so a post reads, builds and packs
again only the steps whose text it has not seen (issue 15). A step handed out is a copy that
remembers its text (``StepForm.packed``); that text is used again only while the step still
equals what it reads as, so changing a step (a button does) is always safe.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from typing import Any

from reqflo.journeys.editor.building import StepItem, step_item
from reqflo.journeys.editor.state import AssertionRow, OutputRow, PairRow, StepForm

FIELD = "steps-packed"
# Inflated at most this much: a 1,500-step journey is about 0.5 MB of form state.
MAX_INFLATED = 32 * 1024 * 1024
# Between two steps' texts: JSON text holds no raw line break, so a line is one step.
_SEPARATOR = ",\n"

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


def step_text(step: StepForm) -> str:
    """Return one step as its line of the packed field (compact JSON, the form's fields)."""
    # vars() rather than dataclasses.asdict, whose deep copies cost 10x as much here.
    item = {
        **vars(step),
        "assertions": [vars(row) for row in step.assertions],
        "outputs": [vars(row) for row in step.outputs],
        "headers": [[row.name, row.value] for row in step.headers],
        "query": [[row.name, row.value] for row in step.query],
    }
    del item["packed"]
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


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


def _copy(step: StepForm, text: str) -> StepForm:
    """Return a copy of ``step`` (its rows copied too) that remembers ``text``."""
    return StepForm(
        step.id,
        step.name,
        step.method,
        step.url,
        [PairRow(r.name, r.value) for r in step.headers],
        [PairRow(r.name, r.value) for r in step.query],
        step.body_kind,
        step.body,
        step.timeout_ms,
        step.retries_count,
        step.retries_delay_ms,
        step.always,
        [AssertionRow(r.type, r.operator, r.target, r.expected, r.soft) for r in step.assertions],
        [OutputRow(r.name, r.source, r.path, r.secret) for r in step.outputs],
        step.extra,
        step.sent_ids,
        text,
    )


class _Facts:
    """What one step text reads as (``form``, never handed out) and builds (``item``)."""

    def __init__(self, form: StepForm) -> None:
        self.form = form

    @cached_property
    def item(self) -> StepItem:
        return step_item(self.form)


class StepMemory:
    """Remember up to ``size`` distinct step texts of at most ``chars`` characters in all
    (least recently used go first), per process, safe to share between threads.

    It holds what the posts sent, as typed: ``{{ secrets.NAME }}`` references, never a secret's
    value (the editor never resolves one). A text is found only by a post sending that text.
    A 1,500-step journey is about 1,500 texts, 0.6 M characters.
    """

    def __init__(self, size: int = 8192, chars: int = 8 * 1024 * 1024) -> None:
        self.size = size
        self.chars = chars
        self._items: OrderedDict[str, _Facts] = OrderedDict()
        self._held = 0  # characters of the texts held
        # A saved step (its document part and earlier ids, as ``repr``) → its text.
        self._saved: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def _read(self, text: str) -> _Facts | None:
        """Return what ``text`` (one line) reads as; raise ValueError if it is not JSON."""
        with self._lock:
            facts = self._items.get(text)
            if facts is not None:
                self._items.move_to_end(text)
                return facts
        form = _step(json.loads(text))
        if form is None:
            return None
        facts = _Facts(form)
        if len(text) > self.chars:
            return facts  # read, not remembered
        with self._lock:
            if text not in self._items:
                self._items[text] = facts
                self._held += len(text)
            while len(self._items) > self.size or self._held > self.chars:
                self._held -= len(self._items.popitem(last=False)[0])
        return facts

    def _known(self, step: StepForm) -> _Facts | None:
        """Return the facts of the text ``step`` was read from, if it still reads as that."""
        if not step.packed:
            return None
        with self._lock:
            facts = self._items.get(step.packed)
        return facts if facts is not None and facts.form == step else None

    def steps(self, raw: str) -> list[StepForm] | None:
        """Return the steps of inflated packed text (copies), or None if a line is not JSON."""
        if not (raw.startswith("[") and raw.endswith("]")):
            return None
        lines = raw[1:-1].split(_SEPARATOR) if raw != "[]" else []
        steps = []
        try:
            for line in lines:
                facts = self._read(line)
                if facts is not None:
                    steps.append(_copy(facts.form, line))
        except ValueError:
            return None
        return steps

    def saved(self, key: str, build: Callable[[], StepForm]) -> StepForm:
        """Return ``build()``, the form of a saved step, which ``key`` names exactly.

        A step read from a saved version before is not built again: its form is a copy of
        what its text reads as (so packing and checking it find it remembered too).
        """
        with self._lock:
            text = self._saved.get(key)
            facts = self._items.get(text) if text is not None else None
        if text is not None and facts is not None:
            return _copy(facts.form, text)
        form = build()
        text = step_text(form)
        facts = self._read(text)
        if facts is None or facts.form != form:  # a text that does not read back as typed
            return form
        form.packed = text
        with self._lock:
            self._saved[key] = text
            self._saved.move_to_end(key)
            while len(self._saved) > self.size:
                self._saved.popitem(last=False)
        return form

    def text(self, step: StepForm) -> str:
        """Return ``step_text(step)``, without writing it again when the step is unchanged."""
        return step.packed if self._known(step) is not None else step_text(step)

    def item(self, step: StepForm) -> StepItem:
        """Return ``building.step_item(step)``; the mapping is shared: don't change it."""
        facts = self._known(step)
        return facts.item if facts is not None else step_item(step)


# The memory of this process's editor requests.
MEMORY = StepMemory()


def pack_steps(steps: list[StepForm], memory: StepMemory = MEMORY) -> str:
    """Return ``steps`` as the hidden field's text."""
    raw = "[" + _SEPARATOR.join(map(memory.text, steps)) + "]"
    return base64.b64encode(zlib.compress(raw.encode(), 1)).decode("ascii")


def unpack_steps(text: str, memory: StepMemory = MEMORY) -> list[StepForm] | None:
    """Return the steps of a posted ``steps-packed`` field, or None when there is none.

    Text that does not decode to a list of steps counts as none; an item that is not a step
    is dropped. Each step is a copy of its own; ``StepForm.packed`` is its line.
    """
    if not text:
        return None
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(text, validate=True), MAX_INFLATED)
        if inflater.unconsumed_tail:
            return None
        decoded = raw.decode()
    except (binascii.Error, zlib.error, ValueError):
        return None
    steps = memory.steps(decoded)
    if steps is not None:
        return steps
    # Not one step a line (a page from before the lines, or text made by hand): read it whole.
    try:
        items = json.loads(decoded)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    return [step for step in map(_step, items) if step is not None]
