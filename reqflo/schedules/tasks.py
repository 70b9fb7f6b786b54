"""The schedules' Celery task: a thin adapter over ``ticks`` and ``alerts``."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from reqflo.schedules.alerts import alerts_deliver
from reqflo.schedules.ticks import schedules_tick


@shared_task(name=settings.REQFLO_SCHEDULES_TASK, ignore_result=True)
def tick() -> None:
    """Dispatch due schedules, settle ended ticks (moving alert state), deliver due alerts."""
    schedules_tick()
    alerts_deliver()
