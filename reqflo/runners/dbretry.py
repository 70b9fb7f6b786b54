"""Ride out a dropped database connection: reconnect and retry a worker's write, bounded.

A connection the server terminated, a restart of PostgreSQL or a network blip is an
infrastructure fault, not a lost worker: the worker still holds its lease (the fencing token is
in the database, not in the connection), so the same write with the same token is simply tried
again on a new connection. Each retry waits twice as long as the last (from 0.1 s up to 2 s)
until ``REQFLO_DB_RETRY_SECONDS`` have passed; then ``InfrastructureFault`` says what failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY_SECONDS = 0.1
LONGEST_DELAY_SECONDS = 2.0


class InfrastructureFault(Exception):
    """The database stayed unreachable for longer than the worker waits: ``what`` failed."""

    def __init__(self, what: str, cause: BaseException) -> None:
        super().__init__(f"{what}: {type(cause).__name__}: {str(cause).strip()}")
        self.what = what


def lock_not_available(exc: BaseException) -> bool:
    """Return whether ``exc`` is PostgreSQL's "lock not available" (NOWAIT or lock_timeout)."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "55P03"


def transient(exc: BaseException) -> bool:
    """Return whether ``exc`` is a connection-level database error worth a retry."""
    return isinstance(exc, OperationalError | InterfaceError) and not lock_not_available(exc)


def db_retry(write: Callable[[bool], T], *, what: str, seconds: float | None = None) -> T:
    """Call ``write(retrying)`` until it returns, retrying transient database errors.

    ``retrying`` is False on the first call and True after a connection error, so a write can
    check whether its previous try committed before the connection dropped. Errors other than
    transient ones propagate at once; inside an outer transaction nothing is retried (the
    transaction is lost with its connection). Raises ``InfrastructureFault`` after ``seconds``
    (default ``REQFLO_DB_RETRY_SECONDS``).
    """
    limit = float(settings.REQFLO_DB_RETRY_SECONDS if seconds is None else seconds)
    deadline = time.monotonic() + limit
    delay = FIRST_DELAY_SECONDS
    retrying = False
    while True:
        try:
            return write(retrying)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or not transient(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise InfrastructureFault(what, exc) from exc
            logger.warning("Database error during %s, retrying in %.1f s: %s", what, delay, exc)
            connection.close()  # the next query opens a new connection
            time.sleep(delay)
            delay = min(delay * 2, LONGEST_DELAY_SECONDS)
            retrying = True
