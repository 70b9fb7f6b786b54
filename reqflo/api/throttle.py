"""The per-token rate limit: ``REQFLO_API_RATE_PER_MINUTE`` requests per token per clock minute.

The count is one database row per token and minute, bumped atomically with
``INSERT … ON CONFLICT (token, minute) DO UPDATE SET hits = hits + 1 RETURNING hits`` (PostgreSQL
and SQLite ≥ 3.35 both speak it). A cache-based counter (django-ninja's ``AuthRateThrottle``, or
django-ratelimit on a file or database cache) reads and writes in two steps, so parallel requests
all read the same count and pass together; Redis ``INCR`` would be atomic, but the embedded
default has no Redis. Every request whose count exceeds the limit gets 429 with ``Retry-After``
(the seconds left in the minute); exactly ``limit`` requests of a minute pass, however many
arrive at once and on however many workers.
"""

from __future__ import annotations

import math
import threading
import time
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from reqflo.api.models import ApiRequestCount

WINDOW_SECONDS = 60


def _bump(*, token_id: UUID, minute: int) -> int:
    """Count one request of ``token_id`` in ``minute``; return the minute's count so far."""
    table = connection.ops.quote_name(ApiRequestCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (token_id, minute, hits) VALUES (%s, %s, 1) "
            f"ON CONFLICT (token_id, minute) DO UPDATE SET hits = {table}.hits + 1 "
            "RETURNING hits",
            [
                ApiRequestCount._meta.get_field("token").get_db_prep_value(token_id, connection),
                minute,
            ],
        )
        row = cursor.fetchone()
    hits = int(row[0])
    if hits == 1:
        # The token's first request of a minute clears its earlier minutes (a few rows at most).
        ApiRequestCount.objects.filter(token_id=token_id, minute__lt=minute).delete()
    return hits


class TokenRateThrottle(BaseThrottle):
    """django-ninja throttle counting each authenticated token's requests in the database."""

    def __init__(self) -> None:
        self._waits = threading.local()  # one throttle object serves every thread

    def allow_request(self, request: HttpRequest) -> bool:
        caller = getattr(request, "auth", None)
        token = getattr(caller, "token", None)
        if token is None:  # not authenticated: refused by TokenAuth before this runs
            return True
        now = time.time()
        minute = int(now // WINDOW_SECONDS)
        hits = _bump(token_id=token.pk, minute=minute)
        if hits <= settings.REQFLO_API_RATE_PER_MINUTE:
            return True
        self._waits.seconds = (minute + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        seconds = getattr(self._waits, "seconds", None)
        return None if seconds is None else max(1.0, float(math.ceil(seconds)))
