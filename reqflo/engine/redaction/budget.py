"""The redactor's work budget: a bound on the decoding one redaction may do, and a way to stop.

Every view the redactor builds (a decoded copy of the text or of a window before a cut) is paid
for in characters from the budget of the redaction in progress (a context variable, so threads
and runs never share one). The budget is WORK_FACTOR characters per character of the text plus
WORK_FLOOR; a redaction that would spend more raises OverBudget, and the redactor withholds the
text instead. `spent` totals what every redaction of the context spent (tests assert bounds on
it; benches report it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

WORK_FACTOR = 24
WORK_FLOOR = 64 * 1024
WITHHELD = "••••• (withheld: checking this text for secrets would take too long)"
# How often (in characters spent) the clock is read, and how often (in seconds) `stop` is asked.
_CLOCK_EVERY = 64 * 1024
_ASK_EVERY = 0.25


class OverBudget(Exception):
    """The redaction in progress would spend more than its budget."""


class RedactionStopped(Exception):
    """A long redaction was stopped: the run was cancelled or passed its time limit."""


class Work:
    """The budget of one redaction."""

    __slots__ = ("asked_at", "left", "since_clock", "spent", "stop")

    def __init__(self, size: int, stop: Callable[[], bool] | None) -> None:
        self.left = WORK_FACTOR * size + WORK_FLOOR
        self.spent = 0
        self.since_clock = 0
        self.stop = stop
        # `stop` is first asked once a long text's first views are built, then every
        # _ASK_EVERY seconds at most.
        self.asked_at = -_ASK_EVERY

    def spend(self, amount: int) -> None:
        self.spent += amount
        self.left -= amount
        if self.left < 0:
            raise OverBudget
        self.since_clock += amount
        if self.stop is not None and self.since_clock >= _CLOCK_EVERY:
            self.since_clock = 0
            now = time.monotonic()
            if now - self.asked_at >= _ASK_EVERY:
                self.asked_at = now
                if self.stop():
                    raise RedactionStopped("the redaction was stopped")


_work: ContextVar[Work | None] = ContextVar("reqflo_redaction_work", default=None)
# Every character spent in this context, over all redactions (for tests and benches).
_total: ContextVar[list[int] | None] = ContextVar("reqflo_redaction_total", default=None)


def spend(amount: int) -> None:
    """Pay `amount` characters from the budget of the redaction in progress (if any)."""
    work = _work.get()
    if work is not None:
        work.spend(amount)


@contextmanager
def working(size: int, stop: Callable[[], bool] | None) -> Iterator[Work]:
    """Run a redaction of a text of `size` characters under its own budget."""
    work = Work(size, stop)
    token = _work.set(work)
    try:
        yield work
    finally:
        _work.reset(token)
        total = _total.get()
        if total is not None:
            total[0] += work.spent


@contextmanager
def counting() -> Iterator[list[int]]:
    """Total, in `counted[0]`, the characters every redaction inside the block spent."""
    counted = [0]
    token = _total.set(counted)
    try:
        yield counted
    finally:
        _total.reset(token)
