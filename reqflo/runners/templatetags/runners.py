"""Template helpers of Admin → Runners and the Send panel: durations and checks in words."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from reqflo.journeys.editor import ASSERTION_TYPES, OPERATOR_CHOICES
from reqflo.runners.selectors import Holder, holder_named

register = template.Library()


@register.filter
def duration(value: timedelta | float | int | None) -> str:
    """Return ``value`` (a timedelta or seconds) as "4 s", "2 min 5 s" or "1 h 3 min"."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def ago(value: datetime | None) -> str:
    """Return how long ago ``value`` was, as ``duration`` writes it ("3 s ago")."""
    if value is None:
        return "never"
    return f"{duration(timezone.now() - value)} ago"


@register.filter
def milliseconds(value: float | None) -> str:
    """Return a measured time in milliseconds ("12 ms", "1,250 ms")."""
    if value is None:
        return "—"
    return f"{value:,.0f} ms"


@register.simple_tag
def holder_of(raw: str) -> Holder | None:
    """Name a run's lease holder as pages do: ``{% holder_of run.lease_holder as holder %}``."""
    return holder_named(raw)


@register.filter
def check_words(assertion: object) -> str:
    """Return a check of a Send answer in the editor form's words ("Status code", "equals"),
    not the engine's names (``status_code equals``)."""
    kind = str(getattr(assertion, "type", "") or "")
    operator = str(getattr(assertion, "operator", "") or "")
    words = dict(ASSERTION_TYPES).get(kind, kind.replace("_", " "))
    if operator:
        words += " " + dict(OPERATOR_CHOICES).get(operator, operator.replace("_", " "))
    return words
