"""Reads of schedules: their health at a glance, ticks, channels and alert deliveries.

Health per schedule:

- **state**: ``failing`` (since the first failed tick of the streak), ``passing``, or
  ``flapping`` when the last ``FLAP_WINDOW`` settled ticks changed outcome at least
  ``FLAP_CHANGES`` times; ``paused`` when paused; ``unknown`` before any result;
- **uptime** over 24 h and 7 d: passed ÷ (passed + failed) settled ticks due in that window
  (cancelled runs and skipped ticks do not count);
- **trend**: the durations of the last ``TREND_POINTS`` settled single runs, oldest first.

The list page reads all of it in three statements whatever the number of schedules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.journeys.models import Journey
from reqflo.schedules.models import (
    AlertChannel,
    AlertDelivery,
    AlertState,
    Schedule,
    Tick,
    TickOutcome,
)

FLAP_WINDOW = 10
FLAP_CHANGES = 4
TREND_POINTS = 30


@dataclass
class Health:
    state: str
    uptime_24h: float | None
    uptime_7d: float | None
    trend: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    @property
    def trend_points(self) -> str:
        """SVG polyline points for the trend, 120 by 24 px, slowest run at the top."""
        if len(self.trend) < 2:
            return ""
        top = max(self.trend) or 1
        step = 120 / (len(self.trend) - 1)
        return " ".join(
            f"{i * step:.1f},{24 - 22 * value / top:.1f}" for i, value in enumerate(self.trend)
        )


def _uptime(passed: int, failed: int) -> float | None:
    total = passed + failed
    return None if total == 0 else 100.0 * passed / total


def _state(schedule: Schedule, outcomes: list[str]) -> str:
    if schedule.paused:
        return "paused"
    changes = sum(1 for a, b in pairwise(outcomes) if a != b)
    if changes >= FLAP_CHANGES:
        return "flapping"
    return str(schedule.alert_state)


def _recent_ticks(schedule_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The last ``max(TREND_POINTS, FLAP_WINDOW)`` settled ticks of each schedule, oldest first."""
    limit = max(TREND_POINTS, FLAP_WINDOW)
    rows = (
        Tick.objects.filter(schedule_id__in=schedule_ids, settled_at__isnull=False)
        .exclude(outcome=TickOutcome.IGNORED)
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("schedule_id")], order_by=F("due_at").desc()
            )
        )
        .filter(position__lte=limit)
        .values("schedule_id", "outcome", "duration_ms", "due_at")
    )
    by_schedule: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["due_at"]):
        by_schedule[row["schedule_id"]].append(row)
    return by_schedule


def schedules_with_health(
    *, workspace: Workspace, journey: Journey | None = None, now: datetime | None = None
) -> list[tuple[Schedule, Health]]:
    """Every schedule of ``workspace`` (of ``journey`` if given) with its health."""
    now = now or timezone.now()
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    settled = Q(ticks__settled_at__isnull=False)
    passed, failed = Q(ticks__outcome=TickOutcome.PASSED), Q(ticks__outcome=TickOutcome.FAILED)
    schedules: QuerySet[Schedule] = (
        Schedule.objects.filter(workspace=workspace)
        .select_related("journey", "environment", "case", "version")
        .annotate(
            passed_24h=Count("ticks", filter=settled & passed & Q(ticks__due_at__gte=day)),
            failed_24h=Count("ticks", filter=settled & failed & Q(ticks__due_at__gte=day)),
            passed_7d=Count("ticks", filter=settled & passed & Q(ticks__due_at__gte=week)),
            failed_7d=Count("ticks", filter=settled & failed & Q(ticks__due_at__gte=week)),
        )
        .order_by("name")
    )
    if journey is not None:
        schedules = schedules.filter(journey=journey)
    rows = list(schedules)
    recent = _recent_ticks([s.pk for s in rows])
    result = []
    for schedule in rows:
        ticks = recent.get(schedule.pk, [])
        outcomes = [str(t["outcome"]) for t in ticks[-FLAP_WINDOW:]]
        health = Health(
            state=_state(schedule, outcomes),
            uptime_24h=_uptime(schedule.passed_24h, schedule.failed_24h),  # type: ignore[attr-defined]
            uptime_7d=_uptime(schedule.passed_7d, schedule.failed_7d),  # type: ignore[attr-defined]
            trend=[t["duration_ms"] for t in ticks if t["duration_ms"] is not None][-TREND_POINTS:],
            outcomes=outcomes,
        )
        result.append((schedule, health))
    return result


def schedule_health(schedule: Schedule) -> Health:
    """The health of one schedule (its page)."""
    for found, health in schedules_with_health(
        workspace=schedule.workspace, journey=schedule.journey
    ):
        if found.pk == schedule.pk:
            return health
    raise Schedule.DoesNotExist(schedule.pk)


def schedule_ticks(*, schedule: Schedule, limit: int = 50) -> list[Tick]:
    """The schedule's latest ticks, newest first, with their runs."""
    return list(schedule.ticks.select_related("run").order_by("-due_at")[:limit])


def schedule_deliveries(*, schedule: Schedule, limit: int = 50) -> list[AlertDelivery]:
    """The schedule's alert deliveries, newest first (the delivery log)."""
    return list(
        schedule.deliveries.select_related("channel").order_by("-created_at", "-pk")[:limit]
    )


def workspace_channels(*, workspace: Workspace) -> QuerySet[AlertChannel]:
    return AlertChannel.objects.filter(workspace=workspace).order_by("name")


def annotate_monitor_state(journeys: QuerySet[Journey]) -> QuerySet[Journey]:
    """Annotate ``monitor_failing`` and ``monitored`` (journeys list; same statement)."""
    active = Schedule.objects.filter(journey=OuterRef("pk"), paused=False)
    return journeys.annotate(
        monitored=Exists(active),
        monitor_failing=Exists(active.filter(alert_state=AlertState.FAILING)),
    )
