"""Health reads no tick rows (recent results live on the schedule, uptime is one aggregate),
old ticks are pruned after the stated retention, and the journeys list shows each monitored
journey's health with the schedules pages' component."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from reqflo.runs.models import RunStatus
from reqflo.schedules.models import (
    RECENT_RESULTS,
    AlertDelivery,
    AlertEvent,
    Schedule,
    Tick,
    TickOutcome,
)
from reqflo.schedules.selectors import schedule_health, schedules_with_health
from reqflo.schedules.ticks import PRUNE_BATCH, schedules_tick, ticks_prune
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario
from tests.schedules.helpers import finish, later, make_schedule, schedule_runs

pytestmark = pytest.mark.django_db


def _ticks(schedule: Schedule, now: datetime, ages: list[tuple[timedelta, str]]) -> None:
    Tick.objects.bulk_create(
        Tick(
            schedule=schedule,
            due_at=now - age,
            dispatched_at=now - age,
            outcome=outcome,
            settled_at=None if outcome == TickOutcome.PENDING else now - age,
        )
        for age, outcome in ages
    )


def test_uptime_is_one_aggregate_over_seven_days_and_reads_no_tick_row(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    now = timezone.now()
    first, second = make_schedule(scenario, name="a"), make_schedule(scenario, name="b")
    hour, day = timedelta(hours=1), timedelta(days=1)
    _ticks(first, now, [(hour, "passed"), (2 * hour, "failed"), (3 * day, "passed")])
    _ticks(first, now, [(8 * day, "failed"), (9 * day, "failed"), (hour / 2, "ignored")])
    _ticks(second, now, [(2 * day, "failed")])
    with CaptureQueriesContext(connection) as captured:
        health = dict(schedules_with_health(workspace=scenario.workspace, now=now))
    assert len(captured) == 2
    [aggregate] = [q["sql"] for q in captured if "schedules_tick" in q["sql"]]
    assert "COUNT(" in aggregate
    assert "GROUP BY" in aggregate
    by_name = {schedule.name: h for schedule, h in health.items()}
    assert by_name["a"].uptime_24h == 50.0
    assert by_name["a"].uptime_7d == pytest.approx(200 / 3)  # 8 and 9 days ago do not count
    assert (by_name["b"].uptime_24h, by_name["b"].uptime_7d) == (None, 0.0)
    assert schedule_health(second, now).uptime_7d == 0.0


def test_recent_results_are_kept_on_the_schedule_as_ticks_settle(
    make_scenario: MakeScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reqflo.schedules.ticks.RECENT_RESULTS", 6)
    assert RECENT_RESULTS >= 6
    scenario = make_scenario()
    schedule = make_schedule(scenario, threshold=100)
    moment = timezone.now()
    statuses = [RunStatus.PASSED, RunStatus.FAILED, RunStatus.CANCELLED] * 4
    for n, status in enumerate(statuses):
        schedules_tick(later(moment, 61 * n))
        finish(schedule_runs(schedule)[-1], status, took_ms=100 + n)
        schedules_tick(later(moment, 61 * n + 1))
    schedule.refresh_from_db()
    assert len(schedule.recent) == 6
    assert {r["outcome"] for r in schedule.recent} == {"passed", "failed"}, "cancelled: no result"
    assert schedule.recent[-1]["ms"] == 100 + len(statuses) - 2
    health = schedule_health(schedule)
    assert health.state == "flapping"
    assert health.trend == [r["ms"] for r in schedule.recent]


def test_old_ticks_are_pruned_after_the_retention_in_batches(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario)
    now = timezone.now()
    day = timedelta(days=1)
    _ticks(schedule, now, [(31 * day, "failed"), (40 * day, "pending"), (29 * day, "passed")])
    old = Tick.objects.get(due_at=now - 31 * day)
    delivery = AlertDelivery.objects.create(
        schedule=schedule,
        channel_name="hook",
        tick=old,
        event=AlertEvent.FAILING,
        payload={},
        next_attempt_at=now,
    )
    assert ticks_prune(now) == 1
    left = set(Tick.objects.values_list("outcome", flat=True))
    assert left == {"pending", "passed"}, "unsettled and recent ticks stay"
    delivery.refresh_from_db()
    assert delivery.tick_id is None, "the delivery log outlives its tick"
    with override_settings(REQFLO_SCHEDULE_TICKS_KEEP_DAYS=8):
        assert ticks_prune(now) == 1
    # A backlog drains one batch per tick.
    _ticks(schedule, now, [(60 * day + timedelta(seconds=n), "passed") for n in range(5)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reqflo.schedules.ticks.PRUNE_BATCH", 3)
        assert ticks_prune(now) == 3
        assert ticks_prune(now) == 2
    assert PRUNE_BATCH >= 1000


def test_the_tick_prunes(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario)
    _ticks(schedule, timezone.now(), [(timedelta(days=45), "passed")])
    assert schedules_tick(timezone.now()).pruned == 1
    assert not Tick.objects.filter(due_at__lt=timezone.now() - timedelta(days=30)).exists()


def _row(listing: str, slug: str) -> str:
    start = listing.index(f'data-slug="{slug}"')
    return listing[start : listing.index("</tr>", start)]


def test_the_journeys_list_shows_each_monitored_journeys_health(
    make_scenario: MakeScenario, client_as: ClientAs
) -> None:
    scenario = make_scenario()
    slug = scenario.version.journey.slug
    passing = make_schedule(scenario, name="passing", threshold=1)
    failing = make_schedule(scenario, name="failing", threshold=1)
    moment = timezone.now()
    schedules_tick(moment)
    finish(schedule_runs(passing)[0], RunStatus.PASSED, took_ms=240)
    finish(schedule_runs(failing)[0], RunStatus.FAILED, took_ms=480)
    schedules_tick(later(moment, 1))
    client = client_as("viewer")
    row = _row(client.get(reverse("journeys:journey_list")).content.decode(), slug)
    # The worst state of its schedules, since when (with the zone), uptime over both, the trend.
    assert 'data-monitor="failing"' in row
    failing.refresh_from_db()
    assert failing.failing_since is not None
    assert f"since {failing.failing_since:%-d %b %H:%M} UTC" in row
    assert row.count("50 %") == 2  # 24 h and 7 d
    assert "<polyline" in row
    assert "480 ms" in row  # the latest result of the two
    # The same component as the schedules page (one component): the same badge markup.
    detail = client.get(reverse("schedules:detail", args=[failing.pk])).content.decode()
    badge = row[row.index('<span class="badge monitor-state') :].split("</span>")[0]
    assert badge in detail
    # Only paused schedules: not monitored.
    Schedule.objects.update(paused=True)
    row = _row(client.get(reverse("journeys:journey_list")).content.decode(), slug)
    assert "data-monitor" not in row
    assert "Not scheduled" in row


def test_schedule_times_show_their_zone(make_scenario: MakeScenario, client_as: ClientAs) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario)
    moment = timezone.now()
    schedules_tick(moment)
    schedule.refresh_from_db()
    assert schedule.next_due_at is not None
    assert schedule.last_tick_at is not None
    client = client_as("viewer")
    listing = client.get(reverse("schedules:list")).content.decode()
    detail = client.get(reverse("schedules:detail", args=[schedule.pk])).content.decode()
    for when in (schedule.next_due_at, schedule.last_tick_at):
        assert f"{when:%-d %b %H:%M:%S} UTC" in listing
        assert f"{when:%-d %b %Y %H:%M:%S} UTC" in detail
