"""Alerts: one per state change, to email and signed webhooks, retried, under the egress policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reqflo.runs.models import RunStatus
from reqflo.schedules.alerts import alerts_deliver, signing_secret
from reqflo.schedules.models import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertState,
    ChannelKind,
    DeliveryStatus,
    Schedule,
)
from reqflo.schedules.services import CHANNEL_DELETED, channel_rotate_secret, channel_save
from reqflo.schedules.ticks import schedules_tick
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario
from tests.schedules.helpers import (
    Receiver,
    finish,
    later,
    make_schedule,
    schedule_runs,
    webhook_channel,
)


def _webhook(scenario: Scenario, receiver: Receiver, name: str = "hook") -> AlertChannel:
    return webhook_channel(scenario, receiver, name, path="/hooks/T000/B000/abcdef")


def _tick_and_end(schedule: Schedule, moment: Any, status: str) -> Any:
    """Dispatch the due tick at ``moment``, end its run with ``status``, settle; next moment."""
    schedules_tick(moment)
    finish(schedule_runs(schedule)[-1], status)
    schedules_tick(later(moment, 1))
    return later(moment, 61)


def test_one_alert_after_n_failures_and_one_on_recovery(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    channel = _webhook(scenario, receiver)
    schedule = make_schedule(scenario, threshold=2, channels=[channel])
    moment = timezone.now()
    outcomes = [RunStatus.FAILED, RunStatus.ERROR, RunStatus.FAILED, RunStatus.CANCELLED]
    outcomes += [RunStatus.FAILED, RunStatus.PASSED, RunStatus.PASSED, RunStatus.FAILED]
    states = []
    for status in outcomes:
        moment = _tick_and_end(schedule, moment, status)
        schedule.refresh_from_db()
        states.append(schedule.alert_state)
    assert states == [
        AlertState.UNKNOWN,  # 1 failure: under the threshold of 2
        AlertState.FAILING,  # 2 in a row: the alert
        AlertState.FAILING,
        AlertState.FAILING,  # a cancelled run changes nothing
        AlertState.FAILING,
        AlertState.PASSING,  # recovered: the second alert
        AlertState.PASSING,
        AlertState.PASSING,  # one failure after recovery: under the threshold again
    ]
    deliveries = AlertDelivery.objects.filter(schedule=schedule).order_by("pk")
    events = list(deliveries.values_list("event", flat=True))
    assert events == [AlertEvent.FAILING, AlertEvent.RECOVERED]
    alerts_deliver(later(moment, 1))
    payloads = receiver.verified(signing_secret(channel))
    assert [p["event"] for p in payloads] == ["failing", "recovered"]
    failing = payloads[0]
    assert failing["journey"]["slug"] == scenario.version.journey.slug
    assert failing["run"]["status"] == "error"
    assert failing["consecutive_failures"] == 2
    assert failing["schedule"]["url"].endswith(f"/schedules/{schedule.pk}/")
    assert "is failing" in failing["text"]
    assert "has recovered" in payloads[1]["text"]


def test_a_failed_delivery_is_retried_with_backoff_then_given_up(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    channel = _webhook(scenario, receiver)
    schedule = make_schedule(scenario, threshold=1, channels=[channel])
    receiver.statuses = [500, 503]
    moment = _tick_and_end(schedule, timezone.now(), RunStatus.FAILED)
    assert alerts_deliver(moment) == 1
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.last_error == "the receiver answered 500"
    assert alerts_deliver(later(moment, 10)) == 0  # the first retry waits 30 s
    alerts_deliver(later(moment, 31))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (2, "pending")
    alerts_deliver(later(moment, 31 + 121))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (3, DeliveryStatus.DELIVERED)
    assert len(receiver.received) == 3

    # A receiver that always refuses: five attempts in all, then failed with the reason.
    receiver.statuses = [502] * 10
    moment = _tick_and_end(schedule, later(moment, 400), RunStatus.PASSED)
    at = moment
    for _ in range(5):
        alerts_deliver(at)
        at = later(at, 3700)
    recovered = AlertDelivery.objects.get(event=AlertEvent.RECOVERED)
    assert (recovered.status, recovered.attempts) == (DeliveryStatus.FAILED, 5)
    assert recovered.last_error == "the receiver answered 502"


def test_rotating_the_signing_secret_changes_what_verifies(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    channel = _webhook(scenario, receiver)
    old = signing_secret(channel)
    assert old.startswith("whsec_")
    assert len(old) == 49
    channel_rotate_secret(channel=channel)
    assert signing_secret(channel) != old
    schedule = make_schedule(scenario, threshold=1, channels=[channel])
    moment = _tick_and_end(schedule, timezone.now(), RunStatus.FAILED)
    alerts_deliver(moment)
    assert receiver.verified(old) == []
    assert len(receiver.verified(signing_secret(channel))) == 1


def test_webhooks_go_through_the_egress_policy(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    with pytest.raises(ValidationError) as refused:
        channel_save(
            workspace=scenario.workspace,
            by=scenario.owner,
            name="internal",
            kind=ChannelKind.WEBHOOK,
            target="http://10.20.30.40/hook",
        )
    assert "egress policy" in refused.value.message_dict["target"][0]
    # Allowed when saved, refused later (the owner narrowed the allow-list): not sent, failed.
    channel = _webhook(scenario, receiver)
    schedule = make_schedule(scenario, threshold=1, channels=[channel])
    scenario.config.egress_allow_hosts = []
    scenario.config.save()
    moment = _tick_and_end(schedule, timezone.now(), RunStatus.FAILED)
    alerts_deliver(moment)
    delivery = AlertDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "egress policy" in delivery.last_error
    assert receiver.received == []


@pytest.mark.parametrize(
    ("kind", "address", "message"),
    [
        ("email", "", "email addresses"),
        ("email", "ops@example.com, not-an-address", "not-an-address is not an email address"),
        ("webhook", "ftp://example.com/x", "starts with https://"),
        ("webhook", "https://user:pw@example.com/x", "no user name or password"),
        ("sms", "123", "Choose email or webhook"),
        (
            "webhook",
            "https://example.com:99999/x",
            "Webhook URL: the port 99999 is not a number from 1 to 65535.",
        ),
        ("webhook", "http://example.com:0/x", "Webhook URL: the port 0 is not a number"),
        ("webhook", "http://[::1]:8o/x", "Webhook URL: the port 8o is not a number"),
    ],
)
def test_channel_input_is_checked_in_words(
    make_scenario: MakeScenario, kind: str, address: str, message: str
) -> None:
    scenario = make_scenario()
    with pytest.raises(ValidationError) as refused:
        channel_save(
            workspace=scenario.workspace, by=scenario.owner, name="x", kind=kind, target=address
        )
    assert message in " ".join(refused.value.messages)


def test_email_alerts_use_the_mail_backend(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    channel = channel_save(
        workspace=scenario.workspace,
        by=scenario.owner,
        name="on-call",
        kind=ChannelKind.EMAIL,
        target="ops@acme.test,  lead@acme.test",
    )
    assert channel.target == "ops@acme.test, lead@acme.test"
    schedule = make_schedule(scenario, threshold=1, channels=[channel], name="Checkout monitor")
    moment = _tick_and_end(schedule, timezone.now(), RunStatus.FAILED)
    alerts_deliver(moment)
    [message] = mail.outbox
    assert message.to == ["ops@acme.test", "lead@acme.test"]
    assert "Checkout monitor" in message.subject
    assert "is failing" in message.subject
    assert AlertDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_deleting_a_channel_keeps_its_delivery_log(
    make_scenario: MakeScenario, receiver: Receiver, client_as: ClientAs
) -> None:
    scenario = make_scenario()
    sent, waiting = _webhook(scenario, receiver, "sent-hook"), _webhook(scenario, receiver, "later")
    schedule = make_schedule(scenario, threshold=1, channels=[sent, waiting])
    moment = _tick_and_end(schedule, timezone.now(), RunStatus.FAILED)
    # Deliver to one channel only; the other's alert is still pending when it is deleted.
    AlertDelivery.objects.filter(channel=waiting).update(next_attempt_at=later(moment, 3600))
    assert alerts_deliver(moment) == 1
    owner = client_as("owner")
    for channel in (sent, waiting):
        deleted = owner.post(reverse("schedules:channel_delete", args=[channel.pk]))
        assert deleted.status_code == 302
    assert not AlertChannel.objects.exists()
    log = {d.channel_name: d for d in AlertDelivery.objects.filter(schedule=schedule)}
    assert set(log) == {"sent-hook", "later"}
    assert all(d.channel_id is None and d.channel_kind == ChannelKind.WEBHOOK for d in log.values())
    assert (log["sent-hook"].status, log["sent-hook"].response_status) == ("delivered", 200)
    assert log["later"].status == DeliveryStatus.FAILED
    assert log["later"].last_error == CHANNEL_DELETED
    assert alerts_deliver(later(moment, 7200)) == 0  # nothing is sent to a deleted channel
    assert len(receiver.received) == 1
    page = client_as("viewer").get(reverse("schedules:detail", args=[schedule.pk]))
    body = page.content.decode()
    assert 'sent-hook <span class="muted">(deleted)</span>' in body
    assert CHANNEL_DELETED in body
    # The schedule itself is untouched, alerting to no channel now.
    schedule.refresh_from_db()
    assert list(schedule.channels.all()) == []
