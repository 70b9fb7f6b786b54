"""Alert delivery is its own task: the tick never waits on a receiver, and one claim sends once.

Real parts: PostgreSQL (each thread its own connection, as each worker process has), a loopback
webhook receiver that holds its answer until the test releases it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from reqflo.runs.models import RunStatus
from reqflo.schedules import alerts
from reqflo.schedules.alerts import (
    CLAIM_SECONDS,
    DELIVERY_HEADER,
    STALE_CLAIM,
    alert_deliver,
    alerts_enqueue,
)
from reqflo.schedules.models import AlertDelivery, DeliveryStatus, Schedule
from reqflo.schedules.ticks import schedules_tick
from tests.runs.fixtures import MakeScenario, Scenario
from tests.schedules.helpers import (
    Receiver,
    finish,
    later,
    make_schedule,
    schedule_runs,
    webhook_channel,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _failing_alert(scenario: Scenario, receiver: Receiver) -> tuple[AlertDelivery, datetime]:
    """A schedule whose first run fails (threshold 1): one webhook delivery, published.

    Returns the delivery and the moment of the tick that dispatched the run.
    """
    channel = webhook_channel(scenario, receiver)
    schedule = make_schedule(scenario, name="Failing", threshold=1, channels=[channel])
    moment = timezone.now()
    schedules_tick(moment)
    finish(schedule_runs(schedule)[-1], RunStatus.FAILED)
    report = schedules_tick(later(moment, 1))
    assert (report.settled, report.alerts) == (1, 1), "the tick publishes, it does not send"
    assert receiver.received == []
    return AlertDelivery.objects.get(), moment


def _in_thread(target: Callable[[], object], results: list[object]) -> threading.Thread:
    def body() -> None:
        try:
            results.append(target())
        except BaseException as exc:  # reported in the test's thread
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    event = threading.Event()
    for _ in range(300):
        if condition():
            return
        event.wait(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_slow_receiver_does_not_hold_the_next_ticks_dispatch(
    make_scenario: MakeScenario, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver answers when the test releases it: within the attempt's deadline, however
    # loaded the machine (the deadline itself: the test at the end of this file).
    monkeypatch.setattr(alerts, "WEBHOOK_TIMEOUT_SECONDS", 120.0)
    scenario = make_scenario()
    delivery, moment = _failing_alert(scenario, receiver)
    other = make_schedule(scenario, name="Other")
    Schedule.objects.filter(pk=other.pk).update(next_due_at=later(moment, 2))

    receiver.hold = True
    results: list[object] = []
    sender = _in_thread(lambda: alert_deliver(delivery.pk, later(moment, 2)), results)
    try:
        _wait_for(lambda: len(receiver.received) == 1, "the webhook to arrive")
        # The receiver has not answered: the alert is claimed, and the next tick dispatches.
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENDING
        assert schedules_tick(later(moment, 3)).dispatched == 1
        assert len(schedule_runs(other)) == 1
        assert alert_deliver(delivery.pk, later(moment, 3)) is False, "claimed: not sent twice"
        assert alerts_enqueue(later(moment, 3)) == 0
    finally:
        receiver.release.set()
        sender.join(60)
    assert results == [True]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    [(headers, body)] = receiver.received
    assert headers[DELIVERY_HEADER] == str(delivery.key)
    assert json.loads(body)["delivery_id"] == str(delivery.key)


def test_racing_workers_deliver_an_alert_once(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    delivery, moment = _failing_alert(scenario, receiver)
    receiver.hold = True
    barrier = threading.Barrier(4)

    def race() -> bool:
        barrier.wait()
        return alert_deliver(delivery.pk, later(moment, 2))

    results: list[object] = []
    threads = [_in_thread(race, results) for _ in range(4)]
    try:
        _wait_for(lambda: len(results) == 3, "the losers of the race to return")
    finally:
        receiver.release.set()
        for thread in threads:
            thread.join(60)
    assert sorted(results, key=str) == [False, False, False, True]
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    # A message that arrives after it was delivered (a redelivery) sends nothing.
    assert alert_deliver(delivery.pk, later(moment, 3600)) is False
    assert len(receiver.received) == 1


def test_a_dead_senders_claim_is_released_and_the_same_delivery_id_is_sent(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    delivery, moment = _failing_alert(scenario, receiver)
    # A sender that claimed it and died: the claim stands until it is CLAIM_SECONDS old.
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_until=later(moment, CLAIM_SECONDS),
        enqueued_at=None,
    )
    assert alerts_enqueue(later(moment, CLAIM_SECONDS - 1)) == 0
    assert alerts_enqueue(later(moment, CLAIM_SECONDS + 1)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.PENDING, STALE_CLAIM)
    # Published once: the next tick does not publish it again while the message is on its way.
    assert alerts_enqueue(later(moment, CLAIM_SECONDS + 11)) == 0
    assert alert_deliver(delivery.pk, later(moment, CLAIM_SECONDS + 12)) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    [(headers, _)] = receiver.received
    assert headers[DELIVERY_HEADER] == str(delivery.key)


def test_a_retry_is_published_when_its_delay_has_passed(
    make_scenario: MakeScenario, receiver: Receiver
) -> None:
    scenario = make_scenario()
    delivery, moment = _failing_alert(scenario, receiver)
    receiver.statuses = [503]
    assert alert_deliver(delivery.pk, later(moment, 2)) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == later(moment, 2) + timedelta(seconds=30)
    assert alerts_enqueue(later(moment, 31)) == 0, "the first retry waits 30 s"
    assert alerts_enqueue(later(moment, 33)) == 1
    assert alert_deliver(delivery.pk, later(moment, 33)) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert {h[DELIVERY_HEADER] for h, _ in receiver.received} == {str(delivery.key)}


def _trickling_receiver(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    """A receiver that reads the request, then sends its status line and one header byte every
    0.2 s for 20 s: never a read timeout, never an answer."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(100):
                if stop.wait(0.2):
                    return
                with contextlib.suppress(OSError):
                    connection.sendall(b"x")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_one_webhook_attempt_ends_by_its_deadline_however_slowly_the_receiver_answers(
    make_scenario: MakeScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's timeout is per read: the attempt's wall-clock deadline is what ends it."""
    monkeypatch.setattr(alerts, "WEBHOOK_TIMEOUT_SECONDS", 1.0)
    stop = threading.Event()
    server, thread = _trickling_receiver(stop)
    scenario = make_scenario()
    channel = webhook_channel(
        scenario, Receiver(url=f"http://127.0.0.1:{server.getsockname()[1]}"), path="/slow"
    )
    started = time.monotonic()
    try:
        with pytest.raises(alerts.DeliveryFailed, match="Timeout"):
            alerts.webhook_post(channel, {"event": "failing"}, delivery_id="d-1")
        # A bound, not a timing: without the deadline the receiver holds it for 20 s.
        assert time.monotonic() - started < 15
    finally:
        stop.set()
        thread.join(5)
        server.close()
