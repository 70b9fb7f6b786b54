"""Template helpers for the editor, where a 200-step journey renders thousands of fields."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from reqflo.journeys.editor.page import StepRow

register = template.Library()


def _pair(choice: str | Sequence[str]) -> tuple[str, str]:
    if isinstance(choice, str):
        return choice, choice
    return choice[0], choice[1]


@register.simple_tag
def options(choices: Iterable[str | Sequence[str]], selected: str, blank: str = "") -> SafeString:
    """Return the ``<option>`` list of a select, marking ``selected``; ``blank`` adds an empty one.

    A choice is a value or a ``(value, label)`` pair. The editor of a 200-step journey renders
    about 7,000 options from a handful of distinct (choices, selected) pairs, so each list is
    built once in Python and then reused.
    """
    return _options(tuple(choices), str(selected), blank)


@lru_cache(maxsize=512)
def _options(choices: tuple[str | Sequence[str], ...], selected: str, blank: str) -> SafeString:
    pairs = [_pair(choice) for choice in choices]
    if selected and selected not in {value for value, _ in pairs}:
        # A value from a hand-written document or a tampered POST stays on screen, so the
        # error about it makes sense and saving again does not quietly change it.
        pairs.insert(0, (selected, selected))
    rows = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in pairs),
    )
    if blank:
        return format_html('<option value="">{}</option>{}', blank, rows)
    return rows


@register.simple_tag
def step_list_items(rows: Sequence[StepRow], selected: StepRow | None, can_edit: bool) -> str:
    """Return the step list's ``<li>`` items, one per step, the selected one marked current.

    A 1,500-step journey lists 1,500 steps on every editor answer; built here in one pass it
    costs a few milliseconds, where the template loop cost a quarter of a second. Every value
    is escaped (the standard library's ``html.escape``, what Django's ``escape`` calls, without
    its lazy-string wrapper that cost more than the escaping); the result is marked safe as a
    whole.
    """
    escape = html.escape
    out = []
    for row in rows:
        step = row.step
        i = row.i
        label = escape(step.name or step.id)
        item = ' draggable="true" data-step="' + i + '"' if can_edit else ""
        current = ' aria-current="step"' if row is selected else ""
        mark = ""
        if can_edit:
            sent = escape(row.sent)
            kind = " send-mark-" + sent if sent else ""
            title = ' title="Last send: ' + sent + '"' if sent else ""
            mark = (
                f' <span id="send-mark-{escape(step.id)}" class="send-mark{kind}"{title}>'
                f"{sent}</span>"
            )
        out.append(
            f'<li{item}><a href="?step={i}" data-step="{i}" data-step-id="{escape(step.id)}"'
            f'{current}><span class="muted">{row.number}.</span> <span class="method">'
            f'{escape(step.method)}</span> <span class="step-name">{label}</span>{mark}</a></li>'
        )
    return mark_safe("".join(out))  # every value above went through escape()
