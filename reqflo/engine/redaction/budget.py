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
from contextvars import ContextVar, Token

WORK_FACTOR = 32
WORK_FLOOR = 64 * 1024
WITHHELD = "••••• (withheld: checking this text for secrets would take too long)"
# How often (in characters spent) the clock is read, and how often (in seconds) `stop` is asked.
_CLOCK_EVERY = 64 * 1024
_ASK_EVERY = 0.25
# A text shorter than this, viewed only as itself (twice at most: once to find, once to map),
# spends less than _CLOCK_EVERY: its redaction never asks `stop`, and so needs no budget.
UNCLOCKED_CHARS = _CLOCK_EVERY // 2


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


class working:  # a context manager used like a function: `with working(size, stop):`
    """Run a redaction of a text of `size` characters under its own budget.

    A class rather than a generator-based context manager: it is entered for every string of
    every step that holds a secret, where `contextlib`'s generator costs several microseconds.
    """

    __slots__ = ("token", "work")

    def __init__(self, size: int, stop: Callable[[], bool] | None) -> None:
        self.work = Work(size, stop)
        self.token: Token[Work | None] | None = None

    def __enter__(self) -> Work:
        self.token = _work.set(self.work)
        return self.work

    def __exit__(self, *exc_info: object) -> None:
        assert self.token is not None
        _work.reset(self.token)
        total = _total.get()
        if total is not None:
            total[0] += self.work.spent


@contextmanager
def counting() -> Iterator[list[int]]:
    """Total, in `counted[0]`, the characters every redaction inside the block spent."""
    counted = [0]
    token = _total.set(counted)
    try:
        yield counted
    finally:
        _total.reset(token)
