"""Due times: intervals and cron in a time zone, and the missed-ticks policy (run once)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.schedules.timing import (
    Timing,
    check_cron,
    check_interval,
    check_timezone,
    zone_names,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
CRONS = ["*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 1 * *", "15,45 8-18 * * *"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@settings(max_examples=200, deadline=None)
@given(
    due=moments,
    late=st.integers(min_value=0, max_value=30 * 24 * 3600),
    interval=st.integers(min_value=60, max_value=7 * 24 * 3600),
)
def test_interval_catch_up_runs_once_and_lands_after_now(
    due: datetime, late: int, interval: int
) -> None:
    timing = Timing(interval=timedelta(seconds=interval), cron="", zone="UTC")
    now = due + timedelta(seconds=late)
    run_at, skipped, following = timing.catch_up(due, now)
    assert due <= run_at <= now < following
    assert following - run_at == timedelta(seconds=interval)
    assert (run_at - due) == skipped * timedelta(seconds=interval)
    assert skipped == late // interval


@settings(max_examples=60, deadline=None)
@given(
    start=moments,
    late=st.integers(min_value=0, max_value=3 * 24 * 3600),
    cron=st.sampled_from(CRONS),
    zone=st.sampled_from(ZONES),
)
def test_cron_catch_up_runs_the_latest_missed_time_once(
    start: datetime, late: int, cron: str, zone: str
) -> None:
    timing = Timing(interval=None, cron=cron, zone=zone)
    due = timing.after(start)
    now = due + timedelta(seconds=late)
    run_at, skipped, following = timing.catch_up(due, now)
    assert due <= run_at <= now < following
    # Every due time between the first and the one that runs was skipped, none after it.
    walked, count = due, 0
    while walked < run_at:
        walked, count = timing.after(walked), count + 1
    assert walked == run_at
    assert count == skipped
    assert timing.after(run_at) == following


def test_cron_is_read_in_the_schedule_time_zone_across_daylight_saving() -> None:
    timing = Timing(interval=None, cron="0 9 * * *", zone="Europe/Berlin")
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # Saturday 28 March 2026 at 09:00 CET, then Sunday 29 March (clocks went forward) at 09:00 CEST.
    before = timing.after(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    after = timing.after(before)
    assert before.astimezone(berlin).hour == 9
    assert after.astimezone(berlin).hour == 9
    assert (before.hour, after.hour) == (8, 7)  # 09:00 CET is 08:00 UTC, 09:00 CEST 07:00 UTC


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("every minute", "Write five fields"),
        ("61 * * * *", "Not a cron expression"),
        ("* * * *", "Write five fields"),
        ("* * * * L", "Not a cron expression"),
        ("0 0 30 2 *", "Not a cron expression: Bad day-of-month"),
        ("* * * * * *", "Write five fields"),
        ("*/10 * * * * *", "Write five fields"),
    ],
)
def test_bad_cron_expressions_are_refused_in_words(expression: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_cron(expression, "UTC")
    assert message in refused.value.message_dict["cron"][0]


def test_intervals_under_a_minute_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValidationError) as short:
        check_interval(59)
    assert "at least 60 seconds" in short.value.message_dict["interval_seconds"][0]
    check_interval(60)
    with pytest.raises(ValidationError) as zone:
        check_timezone("Mars/Olympus")
    assert "Mars/Olympus is not a time zone" in zone.value.message_dict["timezone"][0]


@pytest.mark.parametrize(
    "name", ["localtime", "Factory", "posixrules", "US/Eastern", "Etc/GMT+3", "EST5EDT", "GB"]
)
def test_non_geographic_zone_names_are_not_offered_or_accepted(name: str) -> None:
    names = zone_names()
    assert name not in names
    with pytest.raises(ValidationError) as refused:
        check_timezone(name)
    assert f"{name} is not a time zone name" in refused.value.message_dict["timezone"][0]


def test_the_zone_list_is_utc_then_geographic_zones_sorted() -> None:
    names = zone_names()
    assert names[0] == "UTC"
    assert list(names[1:]) == sorted(names[1:])
    assert {"Europe/Berlin", "America/Argentina/Buenos_Aires", "Pacific/Auckland"} <= set(names)
    assert all("/" in name for name in names[1:])
    assert len(names) > 300
    for name in names:
        zoneinfo.ZoneInfo(name)


@settings(max_examples=40, deadline=None)
@given(
    start=moments,
    late=st.integers(min_value=3 * 24 * 3600, max_value=400 * 24 * 3600),
    cron=st.sampled_from(["* * * * *", *CRONS]),
    zone=st.sampled_from(ZONES),
)
def test_a_long_outage_jumps_to_the_latest_due_time_counting_at_most_a_day_of_minutes(
    start: datetime, late: int, cron: str, zone: str
) -> None:
    """The walk stops at 1,440 missed times (the tick holds the schedule's row meanwhile); the
    run is still the latest due time, and the next one the first after now."""
    timing = Timing(interval=None, cron=cron, zone=zone)
    due = timing.after(start)
    now = due + timedelta(seconds=late)
    run_at, skipped, following = timing.catch_up(due, now)
    assert due <= run_at <= now < following
    assert timing.after(run_at) == following
    assert 0 <= skipped <= 1440
