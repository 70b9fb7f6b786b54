"""Template helpers for the editor, where a 200-step journey renders thousands of fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from reqflo.journeys.editor.page import StepRow
from reqflo.journeys.editor.problems import Summary, summarise
from reqflo.journeys.editor.step_list import list_items

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

    A 1,500-step journey lists 1,500 steps; built in one pass in Python
    (``editor.step_list.list_items``) it costs a few milliseconds, where the template loop
    cost a quarter of a second. Every value is escaped there; the result is marked safe whole.
    """
    return mark_safe(list_items(rows, selected, can_edit))  # every value went through escape()


@register.simple_tag
def problem_summary(issues: Sequence[object], selected: object = None) -> Summary:
    """Return the bounded list of ``issues`` (``editor.problems.summarise``); ``selected`` is
    the index of the step on screen (an int or its text), or None/"" where there is none."""
    try:
        index = int(str(selected)) if selected not in (None, "") else None
    except ValueError:
        index = None
    return summarise(issues, index)  # type: ignore[arg-type]  # IssueView-shaped items
