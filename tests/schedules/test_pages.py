"""Schedules and alert channels pages: the access matrix, validation in words, what each shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reqflo.runs.models import RunStatus
from reqflo.schedules.alerts import signing_secret
from reqflo.schedules.models import AlertChannel, ChannelKind, Schedule
from reqflo.schedules.services import channel_save
from reqflo.schedules.ticks import schedules_tick
from tests.conftest import ClientAs
from tests.runs.fixtures import API_KEY, MakeScenario, Scenario
from tests.schedules.helpers import finish, make_schedule, schedule_form, schedule_runs

HOOK_TOKEN = "XoXbSlackPathToken9f8e7d"


_form = schedule_form


def _channel(scenario: Scenario) -> AlertChannel:
    return channel_save(
        workspace=scenario.workspace,
        by=scenario.owner,
        name="slack",
        kind=ChannelKind.WEBHOOK,
        target=f"http://127.0.0.1:9/services/{HOOK_TOKEN}",
    )


READS = [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 404), ("anonymous", 302)]
WRITES = [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)]


@pytest.mark.parametrize(("persona", "status"), READS)
def test_schedule_pages_read_access(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, status: int
) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario, name="Acme checkout")
    client = client_as(persona)
    detail = client.get(reverse("schedules:detail", args=[schedule.pk]))
    assert detail.status_code == status
    listing = client.get(reverse("schedules:list"))
    if persona == "anonymous":
        assert listing.status_code == 302
    else:
        assert listing.status_code == 200
        # Another workspace's member sees their own (empty) list, nothing of Acme's.
        assert ("Acme checkout" in listing.content.decode()) == (persona != "outsider")
        # The outsider owns Globex: they may schedule there.
        can_create = persona in ("owner", "editor", "outsider")
        assert ("New schedule" in listing.content.decode()) == can_create


@pytest.mark.parametrize(("persona", "status"), WRITES)
def test_only_editors_and_owners_change_schedules(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, status: int
) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario, name="Acme checkout")
    client = client_as(persona)
    edit = client.post(
        reverse("schedules:edit", args=[schedule.pk]), _form(scenario, name="Renamed")
    )
    assert edit.status_code == status
    pause = client.post(reverse("schedules:pause", args=[schedule.pk]))
    assert pause.status_code == status
    schedule.refresh_from_db()
    assert (schedule.name == "Renamed") == (status == 302 and persona != "anonymous")
    assert schedule.paused == (status == 302 and persona != "anonymous")
    delete = client.post(reverse("schedules:delete", args=[schedule.pk]))
    assert delete.status_code == status
    assert Schedule.objects.filter(pk=schedule.pk).exists() == (persona not in ("owner", "editor"))


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("anonymous", 302)],
)
def test_create_access(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, status: int
) -> None:
    scenario = make_scenario()
    response = client_as(persona).post(reverse("schedules:create"), _form(scenario))
    assert response.status_code == status
    created = Schedule.objects.filter(name="Checkout monitor").first()
    assert (created is not None) == (persona in ("owner", "editor"))
    if created is not None:
        assert response["Location"] == reverse("schedules:detail", args=[created.pk])
        assert created.interval_seconds == 300
        assert created.next_due_at is not None


def test_another_workspace_cannot_use_our_journey(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    """The outsider's form offers only their workspace's journeys; Acme's ids are refused."""
    scenario = make_scenario()
    response = client_as("outsider").post(reverse("schedules:create"), _form(scenario))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"interval_seconds": "30"}, "interval_seconds", "at least 60 seconds"),
        ({"interval_seconds": "99999999999999999"}, "interval_seconds", "at most 31 days"),
        ({"timing": "cron", "cron": "* * * * * *"}, "cron", "Write five fields"),
        ({"interval_seconds": ""}, "interval_seconds", "Give an interval"),
        ({"timing": "cron", "cron": ""}, "cron", "Give a cron expression"),
        ({"timing": "cron", "cron": "every day"}, "cron", "Write five fields"),
        ({"timing": "cron", "cron": "0 9 * * *", "timezone": "Mars/Base"}, "timezone", ""),
        ({"version": "99"}, "version", "has no version 99"),
        ({"failure_threshold": "0"}, "failure_threshold", ""),
    ],
)
def test_bad_input_is_named_and_keeps_what_was_typed(
    client_as: ClientAs,
    make_scenario: MakeScenario,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    scenario = make_scenario()
    response = client_as("editor").post(
        reverse("schedules:create"), _form(scenario, name="Kept name", **changes)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Kept name"' in body
    assert message in body
    assert f'id="id_{field}"' in body
    assert "errorlist" in body
    assert not Schedule.objects.exists()


def test_htmx_form_errors_answer_the_form_fragment(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario()
    response = client_as("editor").post(
        reverse("schedules:create"),
        _form(scenario, interval_seconds="5"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="schedule-form"')
    assert "<html" not in body


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [
        ("owner", 200, 302),
        ("editor", 200, 403),
        ("viewer", 200, 403),
        ("outsider", 200, 404),
        ("anonymous", 302, 302),
    ],
)
def test_channels_access_and_the_webhook_token_is_never_shown(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, read: int, write: int
) -> None:
    scenario = make_scenario()
    channel = _channel(scenario)
    client = client_as(persona)
    page = client.get(reverse("schedules:channels"))
    assert page.status_code == read
    body = page.content.decode()
    assert HOOK_TOKEN not in body
    if persona in ("owner", "editor", "viewer"):
        assert "http://127.0.0.1:9/…" in body
        assert (signing_secret(channel) in body) == (persona == "owner")
    rotate = client.post(reverse("schedules:channel_rotate", args=[channel.pk]))
    assert rotate.status_code == write
    delete = client.post(reverse("schedules:channel_delete", args=[channel.pk]))
    assert delete.status_code == write
    assert AlertChannel.objects.filter(pk=channel.pk).exists() == (persona != "owner")
    add = client.post(
        reverse("schedules:channels"),
        {"name": "mail", "kind": "email", "target": "ops@acme.test"},
    )
    assert add.status_code == (403 if persona in ("editor", "viewer") else 302)


def test_schedule_page_shows_health_ticks_and_alerts(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario()
    schedule = make_schedule(scenario, threshold=1, channels=[_channel(scenario)])
    now = timezone.now()
    schedules_tick(now)
    finish(schedule_runs(schedule)[0], RunStatus.PASSED, took_ms=240)
    schedules_tick(now + timedelta(seconds=61))
    finish(schedule_runs(schedule)[1], RunStatus.FAILED, took_ms=480)
    schedules_tick(now + timedelta(seconds=62))
    client = client_as("viewer")
    body = client.get(reverse("schedules:detail", args=[schedule.pk])).content.decode()
    assert 'data-state="failing"' in body
    assert "50 %" in body  # one of two runs passed in 24 h and 7 d
    assert "480 ms" in body
    assert "<polyline" in body
    assert "Failing" in body
    assert "Pending" in body
    assert API_KEY not in body
    listing = client.get(reverse("journeys:journey_list")).content.decode()
    assert 'data-monitor="failing"' in listing
    fragment = client.get(
        reverse("schedules:detail", args=[schedule.pk]), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<div id="schedule-live"')


def test_schedule_list_reads_in_a_fixed_number_of_queries(
    make_scenario: MakeScenario, client_as: ClientAs, django_assert_max_num_queries: Any
) -> None:
    scenario = make_scenario()
    client: Client = client_as("viewer")
    client.get(reverse("schedules:list"))
    for n in range(12):
        schedule = make_schedule(scenario, name=f"s{n}")
        schedules_tick(timezone.now())
        finish(schedule_runs(schedule)[0])
    schedules_tick(timezone.now())
    with django_assert_max_num_queries(12):
        response = client.get(reverse("schedules:list"))
    assert response.content.decode().count("data-schedule=") == 12


def test_a_schedule_saved_with_an_older_zone_name_stays_editable(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    """A zone alias stored before the list was narrowed (US/Eastern) is kept on edit; it is not
    offered to other schedules, and this one cannot switch to another alias."""
    scenario = make_scenario()
    schedule = make_schedule(scenario, name="Acme checkout")
    Schedule.objects.filter(pk=schedule.pk).update(
        timezone="US/Eastern", cron="0 9 * * *", interval_seconds=None
    )
    client = client_as("editor")
    page = client.get(reverse("schedules:edit", args=[schedule.pk])).content.decode()
    assert "US/Eastern (an older name)" in page
    cron = {"timing": "cron", "cron": "0 9 * * *", "interval_seconds": ""}
    edit = client.post(
        reverse("schedules:edit", args=[schedule.pk]),
        _form(scenario, name="Renamed", timezone="US/Eastern", **cron),
    )
    assert edit.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.timezone) == ("Renamed", "US/Eastern")
    other = client.post(
        reverse("schedules:edit", args=[schedule.pk]),
        _form(scenario, timezone="US/Pacific", **cron),
    )
    assert other.status_code == 400
    assert "US/Pacific is not one of the available choices" in other.content.decode()
    schedule.refresh_from_db()
    assert schedule.timezone == "US/Eastern"
    created = client.get(reverse("schedules:create")).content.decode()
    assert "US/Eastern" not in created
