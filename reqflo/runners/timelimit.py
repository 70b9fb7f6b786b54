"""Notice Celery's soft time limit even where a library swallowed the exception it raises.

Celery stops a task at its soft time limit by sending SIGUSR1 to the pool process, whose handler
raises ``SoftTimeLimitExceeded`` wherever the task happens to be. Inside a step that is usually
in httpx, where the engine turns any exception into a step error ("invalid_request"). The watch
wraps the handler to remember that the limit was reached, so the worker ends the run with "run
time limit reached" instead of recording the interruption as the target's fault.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

SOFT_LIMIT_SIGNAL = getattr(signal, "SIGUSR1", None)


class TimeLimitWatch:
    """``reached`` turns true once the soft time limit's signal arrived while the watch was on.

    Only the main thread can install a handler (Celery's prefork pool runs tasks there); in
    another thread the watch stays passive and only an escaping exception tells.
    """

    def __init__(self) -> None:
        self.reached = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.reached = True
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        raise SoftTimeLimitExceeded()

    def __enter__(self) -> TimeLimitWatch:
        if SOFT_LIMIT_SIGNAL is not None and threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(SOFT_LIMIT_SIGNAL)
            signal.signal(SOFT_LIMIT_SIGNAL, self._handle)
            self._installed = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._installed and SOFT_LIMIT_SIGNAL is not None:
            signal.signal(SOFT_LIMIT_SIGNAL, self._previous)
        if isinstance(exc, SoftTimeLimitExceeded):
            self.reached = True
