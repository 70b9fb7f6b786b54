"""When a schedule is due: intervals and cron expressions in a time zone.

Cron expressions are read by cronsim (the parser Healthchecks maintains): five fields, minute
first, with the usual ranges, steps, lists, names and ``L``/``#`` forms. A cron expression is
evaluated in the schedule's IANA time zone, so ``0 9 * * 1-5`` means 09:00 there, through
daylight-saving changes.

Missed ticks (the app was down, or the tick task ran late) follow one policy: the most recent
missed due time runs **once**, the ones before it are counted as skipped, and the next due time
is the first one after now. A burst of catch-up runs never happens.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError

from reqflo.schedules.models import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS

# A cron expression that matches nothing for this many steps (e.g. 30 February) is refused.
_CRON_LOOKAHEAD = 1000
# Catching up after downtime walks the missed due times, counting them; beyond this many (a day
# of every-minute ticks, a few milliseconds) it jumps to the latest one: the tick holds the
# schedule's row while it catches up, and a long outage must not cost every schedule seconds.
_MAX_MISSED_WALK = 1_440


# The IANA areas of geographic zones ("Europe/Berlin"); names outside them are aliases kept for
# old systems ("US/Eastern", "GB", "EST5EDT", "Etc/GMT+3") or not zones at all ("localtime",
# "Factory", "posixrules").
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def zone_names() -> tuple[str, ...]:
    """The time zones a schedule may use: "UTC", then every geographic IANA zone, sorted.

    From ``zoneinfo.available_timezones()`` (the system's or the tzdata package's database),
    keeping ``Area/Location`` names of the ``_AREAS`` only.
    """
    names = (n for n in zoneinfo.available_timezones() if n.split("/", 1)[0] in _AREAS)
    return ("UTC", *sorted(n for n in names if "/" in n))


def check_timezone(name: str, *, kept: str | None = None) -> zoneinfo.ZoneInfo:
    """Return the zone called ``name``; raises ``ValidationError`` naming it unless it is one of
    ``zone_names()``, or it is ``kept`` (the zone the schedule has stored) and the zone database
    still knows it: a schedule saved before the list was narrowed (an alias such as US/Eastern)
    stays editable without changing its zone."""
    legacy = name == kept and name in zoneinfo.available_timezones()
    if name not in zone_names() and not legacy:
        raise ValidationError(
            {"timezone": f"{name!s:.64} is not a time zone name (for example UTC, Europe/Berlin)."}
        )
    return zoneinfo.ZoneInfo(name)


def check_cron(expression: str, zone: str, *, kept_zone: str | None = None) -> None:
    """Raise ``ValidationError`` on ``cron`` unless the expression parses and ever matches."""
    tz = check_timezone(zone, kept=kept_zone)
    if len(expression.split()) != 5:
        raise ValidationError(
            {
                "cron": "Write five fields, minute first (minute hour day month weekday); a "
                "schedule runs at most once a minute, so there is no seconds field."
            }
        )
    start = datetime.now(tz)
    try:
        iterator = CronSim(expression, start)
    except CronSimError as exc:
        raise ValidationError({"cron": f"Not a cron expression: {exc}"}) from None
    try:
        next(iterator)
    except (StopIteration, CronSimError):
        raise ValidationError({"cron": "This cron expression never matches a date."}) from None


def check_interval(seconds: int) -> None:
    if seconds < MIN_INTERVAL_SECONDS:
        raise ValidationError(
            {"interval_seconds": f"The interval is at least {MIN_INTERVAL_SECONDS} seconds."}
        )
    if seconds > MAX_INTERVAL_SECONDS:
        raise ValidationError(
            {"interval_seconds": "The interval is at most 31 days (2678400 seconds)."}
        )


@dataclass(frozen=True, slots=True)
class Timing:
    """How often a schedule runs: every ``interval`` or on ``cron`` in ``zone``."""

    interval: timedelta | None
    cron: str
    zone: str

    def after(self, moment: datetime) -> datetime:
        """Return the first due time strictly after ``moment`` (aware, in UTC).

        Intervals count from ``moment`` itself (the previous due time, or now for a new
        schedule); cron times come from the expression.
        """
        if self.interval is not None:
            return moment + self.interval
        tz = zoneinfo.ZoneInfo(self.zone)
        # cronsim yields times >= its start at minute precision: start one second later.
        start = (moment + timedelta(seconds=1)).astimezone(tz)
        return next(CronSim(self.cron, start)).astimezone(moment.tzinfo)

    def catch_up(self, due: datetime, now: datetime) -> tuple[datetime, int, datetime]:
        """Return (the due time to run, how many earlier ones are skipped, the next due time).

        ``due`` is the stored next due time, at or before ``now``.
        """
        if self.interval is not None:
            missed = int((now - due) / self.interval)
            latest = due + missed * self.interval
            return latest, missed, latest + self.interval
        latest, missed = due, 0
        following = self.after(latest)
        while following <= now and missed < _MAX_MISSED_WALK:
            latest, missed = following, missed + 1
            following = self.after(latest)
        if following <= now:  # down for longer than the walk: jump to the latest due time
            tz = zoneinfo.ZoneInfo(self.zone)
            # cronsim's reverse walk yields times strictly before its start, to the minute.
            start = (now + timedelta(minutes=1)).replace(second=0, microsecond=0).astimezone(tz)
            latest = next(CronSim(self.cron, start, reverse=True)).astimezone(now.tzinfo)
            latest = max(latest, following)
            following = self.after(latest)
        return latest, missed, following
