"""Reads of schedules: their health at a glance, ticks, channels and alert deliveries.

Health per schedule:

- **state**: ``failing`` (since the first failed tick of the streak), ``passing``, or
  ``flapping`` when the last ``FLAP_WINDOW`` settled ticks changed outcome at least
  ``FLAP_CHANGES`` times; ``paused`` when paused; ``unknown`` before any result;
- **uptime** over 24 h and 7 d: passed ÷ (passed + failed) settled ticks due in that window
  (cancelled runs and skipped ticks do not count);
- **trend**: the durations of the last ``TREND_POINTS`` settled single runs, oldest first.

State and trend come from ``Schedule.recent`` (kept as ticks settle); uptime from one grouped
aggregate over the last 7 days of ticks. The list page reads all of it in two statements
whatever the number of schedules, and loads no tick row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.journeys.models import Journey
from reqflo.schedules.models import (
    RECENT_RESULTS,
    AlertChannel,
    AlertDelivery,
    AlertState,
    Schedule,
    Tick,
    TickOutcome,
)

FLAP_WINDOW = 10
FLAP_CHANGES = 4
TREND_POINTS = RECENT_RESULTS


@dataclass
class Health:
    state: str
    uptime_24h: float | None
    uptime_7d: float | None
    trend: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    failing_since: datetime | None = None
    # Passed and failed results per window (``passed_24h``, ``failed_7d``…), for totals.
    counts: dict[str, int] = field(default_factory=dict)

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


def _uptime_counts(schedule_ids: list[UUID], now: datetime) -> dict[UUID, dict[str, int]]:
    """Passed and failed settled ticks per schedule over 24 h and 7 d: one grouped aggregate.

    Reads the index on (schedule, due time) over the last 7 days only; no tick row is loaded.
    """
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    passed, failed = Q(outcome=TickOutcome.PASSED), Q(outcome=TickOutcome.FAILED)
    rows = (
        Tick.objects.filter(
            schedule_id__in=schedule_ids, due_at__gte=week, settled_at__isnull=False
        )
        .order_by()
        .values("schedule_id")
        .annotate(
            passed_24h=Count("pk", filter=passed & Q(due_at__gte=day)),
            failed_24h=Count("pk", filter=failed & Q(due_at__gte=day)),
            passed_7d=Count("pk", filter=passed),
            failed_7d=Count("pk", filter=failed),
        )
    )
    return {row.pop("schedule_id"): row for row in rows}


def health_of(schedule: Schedule, counts: dict[str, int] | None) -> Health:
    """The health of one schedule from its recent results and its uptime counts."""
    counts = counts or {}
    recent: list[dict[str, Any]] = schedule.recent or []
    outcomes = [str(r["outcome"]) for r in recent[-FLAP_WINDOW:]]
    return Health(
        counts=counts,
        state=_state(schedule, outcomes),
        uptime_24h=_uptime(counts.get("passed_24h", 0), counts.get("failed_24h", 0)),
        uptime_7d=_uptime(counts.get("passed_7d", 0), counts.get("failed_7d", 0)),
        trend=_trend(recent),
        outcomes=outcomes,
        failing_since=schedule.failing_since
        if schedule.alert_state == AlertState.FAILING
        else None,
    )


def _trend(recent: list[dict[str, Any]]) -> list[int]:
    return [int(r["ms"]) for r in recent if r.get("ms") is not None][-TREND_POINTS:]


_STATE_ORDER = ("failing", "flapping", "passing", "unknown")


def _journey_health(healths: list[Health], schedules: list[Schedule]) -> Health:
    """One journey's health over its active schedules.

    State: the worst of theirs (failing, then flapping, then passing, then no result yet), failing
    since the earliest failing schedule's streak; uptime over all their results; trend: their
    results merged in due-time order.
    """
    state = min((h.state for h in healths), key=_STATE_ORDER.index)
    since = [h.failing_since for h in healths if h.failing_since is not None]
    merged = sorted((r for s in schedules for r in s.recent or []), key=lambda r: str(r["at"]))
    return Health(
        state=state,
        uptime_24h=_uptime(*_totals(healths, "24h")),
        uptime_7d=_uptime(*_totals(healths, "7d")),
        trend=_trend(merged),
        outcomes=[str(r["outcome"]) for r in merged[-FLAP_WINDOW:]],
        failing_since=min(since) if state == "failing" and since else None,
    )


def _totals(healths: list[Health], window: str) -> tuple[int, int]:
    passed = sum(h.counts.get(f"passed_{window}", 0) for h in healths)
    return passed, sum(h.counts.get(f"failed_{window}", 0) for h in healths)


def journeys_monitor(journeys: list[Journey], now: datetime | None = None) -> None:
    """Set ``journey.monitor`` (a ``Health``, or None when no active schedule runs it).

    For the journeys list: two statements whatever the number of journeys and schedules.
    """
    schedules = list(
        Schedule.objects.filter(journey__in=[j.pk for j in journeys], paused=False).order_by()
    )
    counts = _uptime_counts([s.pk for s in schedules], now or timezone.now())
    by_journey: dict[UUID, list[Schedule]] = {}
    for schedule in schedules:
        by_journey.setdefault(schedule.journey_id, []).append(schedule)
    for journey in journeys:
        mine = by_journey.get(journey.pk, [])
        healths = [health_of(s, counts.get(s.pk)) for s in mine]
        journey.monitor = _journey_health(healths, mine) if mine else None  # type: ignore[attr-defined]


def schedules_with_health(
    *, workspace: Workspace, journey: Journey | None = None, now: datetime | None = None
) -> list[tuple[Schedule, Health]]:
    """Every schedule of ``workspace`` (of ``journey`` if given) with its health: two queries."""
    now = now or timezone.now()
    schedules: QuerySet[Schedule] = (
        Schedule.objects.filter(workspace=workspace)
        .select_related("journey", "environment", "case", "version")
        .order_by("name")
    )
    if journey is not None:
        schedules = schedules.filter(journey=journey)
    rows = list(schedules)
    counts = _uptime_counts([s.pk for s in rows], now)
    return [(schedule, health_of(schedule, counts.get(schedule.pk))) for schedule in rows]


def schedule_health(schedule: Schedule, now: datetime | None = None) -> Health:
    """The health of one schedule (its page)."""
    counts = _uptime_counts([schedule.pk], now or timezone.now())
    return health_of(schedule, counts.get(schedule.pk))


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
