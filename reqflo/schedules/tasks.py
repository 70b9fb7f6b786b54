"""The schedules' Celery tasks: thin adapters over ``ticks`` and ``alerts``."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from reqflo.schedules.alerts import alert_deliver
from reqflo.schedules.ticks import schedules_tick


@shared_task(name=settings.REQFLO_SCHEDULES_TASK, ignore_result=True)
def tick() -> None:
    """Dispatch due schedules, settle ended ticks (moving alert state), publish due alerts."""
    schedules_tick()


@shared_task(name=settings.REQFLO_ALERTS_TASK, ignore_result=True)
def deliver_alert(delivery_id: int) -> None:
    """Make one attempt at one alert delivery (on the alerts queue; a duplicate does nothing)."""
    alert_deliver(delivery_id)
