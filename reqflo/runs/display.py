"""How the run pages write evidence values: bodies pretty-printed, actual values as JSON.

Shared by the templates (``{% load runs %}``) and the comparison of two runs.
"""

from __future__ import annotations

from typing import Any

from reqflo.engine import numbers
from reqflo.engine.results import AssertionResult, actual_shown, expected_shown


def pretty_body(text: str | None) -> tuple[str, bool]:
    """Return (the body to show, whether it is JSON): JSON re-indented, anything else as is.

    Numbers keep every digit (``reqflo.engine.numbers``); JSON nested too deep for Python's
    parser or encoder (thousands of levels) is shown as it was received.
    """
    if not text:
        return "", False
    try:
        value = numbers.loads(text)
        return numbers.dumps(value, indent=2, ensure_ascii=False), True
    except (ValueError, RecursionError):
        return text, False


def as_json(value: Any) -> str:
    """Return ``value`` written as JSON ("Ada" with its quotes, null, 3.10 exactly)."""
    return numbers.dumps(value, ensure_ascii=False, default=str)


def actual_text(assertion: AssertionResult) -> str:
    """Return an assertion's actual value as JSON, or why there is none ("no value" ≠ null)."""
    return actual_shown(assertion, as_json)


def expected_text(assertion: AssertionResult) -> str:
    """Return an assertion's expected value as JSON, or why there is none (`exists`)."""
    return expected_shown(assertion, as_json)
