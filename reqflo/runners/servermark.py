"""The runner server's own mark: while a web process serves self-hosted runners, it says so.

A self-hosted lease that ran out while the server was down was not lost by its runner: nobody
could renew anything. The Cloud Runner tells its database's outages from the sweeper's marks
(``leases.sweep_mark``); the runner protocol is served by the web processes, so each one that
has answered a runner keeps a thread that writes ``leases.server_mark`` every half heartbeat
(at least every 0.5 s). A gap in that mark longer than ``leases.server_gap`` was the server's
outage (or every web process stopped serving runners): expired self-hosted leases then wait a
lease for their runners to renew them, and any that ran out in the gap end their attempt as an
infrastructure fault, never ``worker_lost`` (``leases.settle_window(self_hosted=True)``).

``REQFLO_RUNNER_SERVER_MARK`` (default on; off in the in-process test settings, whose test
transactions another thread must not write beside) turns the thread off.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection

from reqflo.runners.leases import server_mark

logger = logging.getLogger(__name__)

_started = threading.Event()
_lock = threading.Lock()


def _interval() -> float:
    return max(0.5, settings.REQFLO_RUN_HEARTBEAT_SECONDS / 2)


def _tick_forever() -> None:
    while True:
        try:
            server_mark()
        except DatabaseError as exc:
            # The database is away: no mark (that is the outage); reconnect next time.
            logger.warning("runner server mark not written: %s", exc)
            connection.close()
        threading.Event().wait(_interval())


def server_mark_start() -> None:
    """Start this process's mark thread once (called when the process first serves a runner)."""
    if _started.is_set() or not settings.REQFLO_RUNNER_SERVER_MARK:
        return
    with _lock:
        if _started.is_set():
            return
        server_mark()  # the window starts with this request, not half a tick later
        threading.Thread(target=_tick_forever, name="reqflo-server-mark", daemon=True).start()
        _started.set()
