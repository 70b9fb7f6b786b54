"""Mask resolved secret values in every log record of the process while a run uses them.

Libraries log what they send: httpx logs each request URL at INFO, so a secret in a query string
would reach the log. Redacting in one handler misses handlers added later (and other loggers),
so this wraps the process's log record factory instead: every record, from any logger, has its
message (and exception text) masked when it is created, before any handler sees it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from reqflo.engine import Redactor
from reqflo.secrets.resolution import ResolvedSecrets

_lock = threading.Lock()
_active: Counter[str] = Counter()
_redactor = Redactor()
_installed = False


def _rebuild() -> None:
    global _redactor
    _redactor = Redactor(value for value, count in _active.items() if count > 0)


def _redacting_factory(
    previous: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor = _redactor
        if not redactor:
            return record
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: logging's error report would print the raw arguments, so
            # they become masked text here instead.
            message = f"{record.msg} (unformatted arguments: {record.args!r})"
            record.msg, record.args = message, ()
        masked = redactor.redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redactor.redact(text)
            record.exc_info = None
        return record

    return factory


def _install() -> None:
    global _installed
    if not _installed:
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _installed = True


class LogMask:
    """The values one ``redact_logs`` block masks; a run adds the secrets it captures."""

    def __init__(self, values: Iterable[str]) -> None:
        self._values: set[str] = set()
        self.add(*values)

    def add(self, *values: str) -> None:
        """Mask ``values`` too, until the block ends (a secret output captured by a step)."""
        with _lock:
            fresh = {value for value in values if value and value not in self._values}
            if not fresh:
                return
            _install()
            self._values |= fresh
            _active.update(fresh)
            _rebuild()

    def _release(self) -> None:
        with _lock:
            _active.subtract(self._values)
            for value in [v for v, count in _active.items() if count <= 0]:
                del _active[value]
            _rebuild()


@contextmanager
def redact_logs(resolved: ResolvedSecrets) -> Iterator[LogMask]:
    """Mask ``resolved``'s values in all log records created inside the block.

    Use around the execution of a run (``with redact_logs(resolved) as mask: ...``), and give
    ``mask.add`` the secrets the run captures on the way (secret outputs). Nested and concurrent
    runs add their values; each value stays masked until the last run using it leaves its block.
    """
    mask = LogMask(resolved.redact)
    try:
        yield mask
    finally:
        mask._release()
