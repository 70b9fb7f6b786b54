"""The tick: each due time dispatches one run, however many tick tasks run and however late.

No worker here: runs are ended by hand, and time is passed in (``now``) rather than slept.
The same rules with real beat and worker processes are in ``test_beat_processes.py``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from reqflo.runs.models import Run, RunStatus, Trigger
from reqflo.schedules.models import Schedule, Tick, TickOutcome
from reqflo.schedules.services import schedule_pause, schedule_resume
from reqflo.schedules.ticks import idempotency_key, schedules_dispatch_due, schedules_tick
from reqflo.secrets.models import Secret
from tests.runs.fixtures import MakeScenario
from tests.schedules.helpers import finish, later, make_schedule, schedule_runs


def test_a_new_interval_schedule_runs_at_the_next_tick_then_once_per_interval(
    make_scenario: MakeScenario,
) -> None:
    schedule = make_schedule(make_scenario())
    now = timezone.now()
    assert schedule.next_due_at is not None
    assert schedule.next_due_at <= now

    assert schedules_tick(now).dispatched == 1
    [run] = schedule_runs(schedule)
    assert run.trigger == Trigger.SCHEDULE
    assert run.idempotency_key == idempotency_key(schedule, schedule.next_due_at)
    # The same moment again, and any moment before the next due time: nothing more.
    assert schedules_tick(now).dispatched == 0
    assert schedules_tick(later(now, 59)).dispatched == 0
    finish(run)
    assert schedules_tick(later(now, 60)).dispatched == 1
    assert len(schedule_runs(schedule)) == 2
    schedule.refresh_from_db()
    assert schedule.skipped_ticks == 0


def test_missed_ticks_run_once_not_in_a_burst(make_scenario: MakeScenario) -> None:
    schedule = make_schedule(make_scenario())
    first_due = schedule.next_due_at
    assert first_due is not None
    schedules_tick(first_due)
    finish(schedule_runs(schedule)[0])

    # Down for ten and a half minutes: ten due times passed; one run, nine skipped.
    back = later(first_due, 10 * 60 + 30)
    assert schedules_tick(back).dispatched == 1
    schedule.refresh_from_db()
    assert len(schedule_runs(schedule)) == 2
    assert schedule.skipped_ticks == 9
    assert schedule.last_tick_at == later(first_due, 600)
    assert schedule.next_due_at == later(first_due, 660)


def test_a_tick_is_skipped_while_the_previous_run_has_not_ended(
    make_scenario: MakeScenario,
) -> None:
    schedule = make_schedule(make_scenario())
    now = timezone.now()
    schedules_tick(now)
    report = schedules_tick(later(now, 61))
    assert (report.dispatched, report.skipped) == (0, 1)
    assert len(schedule_runs(schedule)) == 1
    finish(schedule_runs(schedule)[0], RunStatus.FAILED)
    assert schedules_tick(later(now, 122)).dispatched == 1


def test_paused_schedules_do_not_run_and_resume_without_catching_up(
    make_scenario: MakeScenario,
) -> None:
    schedule = make_schedule(make_scenario())
    schedule_pause(schedule=schedule)
    assert schedules_tick(later(timezone.now(), 3600)).dispatched == 0
    schedule = schedule_resume(schedule=schedule)
    assert schedule.next_due_at is not None
    assert schedule.next_due_at >= timezone.now() - timedelta(seconds=5)
    assert schedules_tick(later(timezone.now(), 1)).dispatched == 1
    assert len(schedule_runs(schedule)) == 1


def test_a_cron_schedule_runs_at_its_times(make_scenario: MakeScenario) -> None:
    schedule = make_schedule(make_scenario(), interval=None, cron="*/15 * * * *")
    due = schedule.next_due_at
    assert due is not None
    assert due.minute % 15 == 0
    assert due.second == 0
    assert schedules_tick(later(due, -1)).dispatched == 0
    assert schedules_tick(due).dispatched == 1
    schedule.refresh_from_db()
    assert schedule.next_due_at == later(due, 15 * 60)


def test_a_refused_dispatch_is_a_failed_tick_that_says_why(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario)
    Secret.objects.filter(workspace=scenario.workspace, name="api_key").delete()
    schedules_tick(timezone.now())
    tick = Tick.objects.get(schedule=schedule)
    assert tick.run is None
    assert tick.outcome == TickOutcome.FAILED
    assert "api_key" in tick.refused
    assert Run.objects.count() == 0


def _tick_in_thread(
    moment: datetime, barrier: threading.Barrier, errors: list[BaseException]
) -> None:
    try:
        barrier.wait()
        schedules_dispatch_due(moment)
    except BaseException as exc:  # reported in the test's thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_concurrent_tick_tasks_dispatch_each_due_time_once(make_scenario: MakeScenario) -> None:
    """Two beats by mistake, or a slow tick overlapping the next: every due time runs once."""
    scenario = make_scenario()
    schedules = [make_schedule(scenario, name=f"s{n}") for n in range(5)]
    now = timezone.now()
    for round_ in range(3):
        moment = later(now, 61 * round_)
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_tick_in_thread, args=(moment, barrier, errors))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        for schedule in schedules:
            runs = schedule_runs(schedule)
            assert len(runs) == round_ + 1, (schedule.name, round_)
            finish(runs[-1])
    assert Tick.objects.count() == 15
    assert Schedule.objects.filter(skipped_ticks=0).count() == 5
    connection.close()
