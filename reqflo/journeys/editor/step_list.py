"""The editor's step list as HTML, and the few items an answer changes in it (issue 15).

A 1,500-step journey lists 1,500 steps. Sending and swapping the whole list on every button
cost the browser half a second or more (parsing and laying out 400 KB, htmx walking every item),
so an htmx answer to a form post keeps the list the page already shows and carries only what
changed in it: ``list_patch`` compares the list the posted page showed (its packed steps, the
step it had selected, the sends it knew) with the list of the answer, item by item, and returns
hunks, each "at old position AT remove REMOVE items, insert these". A picked step is two small
hunks (the old and the new current item), a move a removal and an insertion, a removed step one
removal, whatever the button. ``static/js/editor.js`` applies them and then sets the positional
parts of every item (``data-step``, ``href="?step=N"``, the number) from its place in the list.

An item's content (``item_key``) leaves its position out, so that a step inserted near the top
does not make every item below it differ.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.safestring import SafeString, mark_safe

from reqflo.journeys.editor.page import StepRow
from reqflo.journeys.editor.state import StepForm, last_send

# The hidden field naming the sends the page's list marks (``sends_key``).
SENDS_FIELD = "list_sends"

ItemKey = tuple[str, str, str, str, bool]  # step id, name, method, last send, current


@dataclass(frozen=True)
class Hunk:
    """Replace ``remove`` items at position ``at`` of the shown list with ``items`` (HTML)."""

    at: int
    remove: int
    items: SafeString


def item_key(step: StepForm, sent: str, current: bool) -> ItemKey:
    """Return what an item shows of a step, without its position."""
    return (step.id, step.name, step.method, sent, current)


def render_item(step: StepForm, index: int, sent: str, current: bool, can_edit: bool) -> str:
    """Return one ``<li>`` of the step list, for the step at ``index`` (0-based).

    Every value is escaped (the standard library's ``html.escape``, what Django's ``escape``
    calls, without its lazy-string wrapper that cost more than the escaping).
    """
    escape = html.escape
    i = str(index)
    label = escape(step.name or step.id)
    item = ' draggable="true" data-step="' + i + '"' if can_edit else ""
    current_mark = ' aria-current="step"' if current else ""
    mark = ""
    if can_edit:
        sent = escape(sent)
        kind = " send-mark-" + sent if sent else ""
        title = ' title="Last send: ' + sent + '"' if sent else ""
        mark = (
            f' <span id="send-mark-{escape(step.id)}" class="send-mark{kind}"{title}>{sent}</span>'
        )
    return (
        f'<li{item}><a href="?step={i}" data-step="{i}" data-step-id="{escape(step.id)}"'
        f'{current_mark}><span class="muted">{index + 1}.</span> '
        f'<span class="method">{escape(step.method)}</span> <span class="step-name">{label}'
        f"</span>{mark}</a></li>"
    )


def list_items(rows: Sequence[StepRow], selected: StepRow | None, can_edit: bool) -> str:
    """Return the ``<li>`` items of ``rows``, the selected one marked current (not escaped
    again: the caller marks the result safe)."""
    return "".join(
        render_item(row.step, int(row.i), row.sent, row is selected, can_edit) for row in rows
    )


def sends_key(statuses: Mapping[str, str]) -> str:
    """Return a short fingerprint of the sends a list marks ({step id: status})."""
    text = "\n".join(f"{step_id}\t{status}" for step_id, status in sorted(statuses.items()))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def list_patch(
    shown: Sequence[StepForm],
    shown_selected: int,
    rows: Sequence[StepRow],
    selected: StepRow | None,
    statuses: Mapping[str, str],
    *,
    same_sends: bool,
    can_edit: bool,
) -> list[Hunk]:
    """Return the hunks that turn the list the posted page showed into the answer's list.

    ``shown`` are the posted page's steps as its list showed them (its packed steps, before the
    posted fields of the step on screen replaced one), ``shown_selected`` the index it marked
    current. ``same_sends`` says whether the page's list marked the sends ``statuses`` holds
    now (else its marks may be stale: one hunk replaces every item). Hunks are in list order
    and do not overlap; applied from the last to the first, each one's ``at`` still holds.
    """
    new_keys = [item_key(row.step, row.sent, row is selected) for row in rows]
    if not same_sends:
        every = mark_safe(list_items(rows, selected, can_edit))  # escaped in render_item
        return [Hunk(0, len(shown), every)] if rows or shown else []
    old_keys = [
        item_key(step, last_send(step, statuses), index == shown_selected)
        for index, step in enumerate(shown)
    ]
    # Only what lies between the equal head and tail is compared (a button changes a few
    # items of a long list: the matcher then indexes those, not the 1,500).
    head = 0
    while head < min(len(old_keys), len(new_keys)) and old_keys[head] == new_keys[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(old_keys), len(new_keys)) - head
        and old_keys[-1 - tail] == new_keys[-1 - tail]
    ):
        tail += 1
    old_middle = old_keys[head : len(old_keys) - tail]
    new_middle = new_keys[head : len(new_keys) - tail]
    hunks: list[Hunk] = []
    matcher = SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        items = "".join(
            render_item(rows[j].step, j, rows[j].sent, rows[j] is selected, can_edit)
            for j in range(j1, j2)
        )
        hunks.append(Hunk(i1, i2 - i1, mark_safe(items)))  # escaped in render_item
    return hunks
