"""Alerts: one message per state change of a schedule, delivered with retries.

State (``Schedule.alert_state``) moves as each tick settles, in due-time order:

- a passed tick makes the schedule ``passing``; if it was ``failing``, a **recovered** alert;
- a failed tick (a failed or errored run, or a refused dispatch) adds to the consecutive
  failures; reaching ``failure_threshold`` makes it ``failing`` with a **failing** alert, once;
- a cancelled run changes nothing.

Each alert is one ``AlertDelivery`` per channel, written in the transaction that moved the state
(an outbox). The tick only publishes (``alerts_enqueue``): one ``deliver_alert`` task per due
delivery on the alerts queue (``REQFLO_ALERTS_QUEUE``), so a slow receiver never holds the
dispatch of schedules. The task claims its delivery (``alert_deliver``: one conditional UPDATE,
``pending`` → ``sending``, so one worker makes each attempt) and sends it: email through Django's
mail backend, webhooks as a JSON POST through the workspace's egress policy, signed with
HMAC-SHA256 and carrying the delivery's stable id (``X-Reqflo-Delivery``) for receivers to
de-duplicate. Failed deliveries are retried with backoff (``RETRY_DELAYS``), then marked failed
with the reason; every attempt's outcome is on the schedule's page.

The payload is built from stored, already redacted evidence (step names, the failing
assertion's message) and never from inputs: no secret value can reach it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from reqflo.celery import app as celery_app
from reqflo.engine.deadline import enforce_deadlines, exchange_deadline
from reqflo.engine.egress import EgressBlocked
from reqflo.runners.config import workspace_transport
from reqflo.runs.models import StepResult
from reqflo.schedules.models import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertState,
    ChannelKind,
    DeliveryStatus,
    Schedule,
    Tick,
    TickOutcome,
)

logger = logging.getLogger(__name__)

# Delays before the 2nd, 3rd, … attempt of a delivery; after the last, it has failed.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
# Each network wait of a webhook attempt (connect, send, the answer's headers) lasts at most this.
WEBHOOK_TIMEOUT_SECONDS = 10.0
# A delivery claimed for an attempt is left alone this long; a claim older than this is a sender
# that died (its attempt counts, and the delivery is due again). Far above one attempt's waits.
CLAIM_SECONDS = 120
# A published delivery still unclaimed after this long is published again (a lost message).
REPUBLISH_SECONDS = 300
DELIVER_BATCH = 20
ENQUEUE_BATCH = 500
SIGNATURE_HEADER = "X-Reqflo-Signature"
# The delivery's stable id, the same on every attempt: receivers de-duplicate on it.
DELIVERY_HEADER = "X-Reqflo-Delivery"
CHANNEL_GONE = "The channel was deleted while this alert was being sent."
STALE_CLAIM = "The sender stopped before it finished; the alert is sent again."


def signing_secret(channel: AlertChannel) -> str:
    """Return the webhook's signing secret (``whsec_`` + 43 characters), derived, not stored.

    HMAC-SHA256 of the channel id and salt under the server's SECRET_KEY: rotating the salt
    (or the SECRET_KEY) gives a new secret.
    """
    message = f"reqflo.schedules.webhook:{channel.pk}:{channel.signing_salt}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return "whsec_" + urlsafe_b64encode(digest).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.

    The HMAC is over ``"<t>." + body`` with the secret as key; a receiver recomputes it and
    compares in constant time, and refuses an old ``t`` to stop replays.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _absolute(path: str) -> str:
    return settings.REQFLO_BASE_URL.rstrip("/") + path


def _run_link(tick: Tick) -> str:
    schedule_page = _absolute(reverse("schedules:detail", args=[tick.schedule_id]))
    if tick.run_id is None:
        return schedule_page
    try:
        return _absolute(reverse("runs:detail", kwargs={"run_id": tick.run_id}))
    except NoReverseMatch:  # the run pages are not installed
        return schedule_page


def _failure(tick: Tick) -> dict[str, Any]:
    """The first failing step of the tick's run and its first failing assertion (redacted)."""
    if tick.refused:
        return {"step": None, "assertion": None, "message": tick.refused}
    if tick.run_id is None:
        return {"step": None, "assertion": None, "message": "A run of the batch failed."}
    failed = (
        StepResult.objects.filter(run_id=tick.run_id)
        .exclude(status__in=("passed", "skipped"))
        .order_by("index")
        .first()
    )
    run_message = tick.run.error_message if tick.run is not None else ""
    if failed is None:
        return {"step": None, "assertion": None, "message": run_message}
    evidence = failed.evidence
    attempts = evidence.get("attempts") or [{}]
    last = attempts[-1]
    assertion = next((a for a in last.get("assertions", []) if not a.get("passed")), None)
    error = last.get("error") or {}
    return {
        "step": {
            "index": failed.index,
            "id": failed.step_id,
            "name": evidence.get("name") or failed.step_id,
            "status": failed.status,
        },
        "assertion": (
            {
                "type": assertion.get("type"),
                "target": assertion.get("target"),
                "message": assertion.get("message"),
            }
            if assertion
            else None
        ),
        "message": error.get("message") or (assertion or {}).get("message") or run_message,
    }


def build_payload(schedule: Schedule, tick: Tick, event: str) -> dict[str, Any]:
    """The JSON an alert carries (webhooks post it; emails are written from it)."""
    journey = schedule.journey
    run = tick.run
    failure = _failure(tick) if event == AlertEvent.FAILING else None
    verb = "is failing" if event == AlertEvent.FAILING else "has recovered"
    text = f"Reqflo: {schedule.name} ({journey.name}) {verb}."
    if failure and failure["message"]:
        where = f" at step {failure['step']['name']}" if failure["step"] else ""
        text += f" {schedule.consecutive_failures} failed run(s) in a row{where}: "
        text += str(failure["message"])[:300]
    link = _run_link(tick)
    return {
        "event": event,
        "text": f"{text} {link}",
        "schedule": {
            "id": str(schedule.pk),
            "name": schedule.name,
            "url": _absolute(reverse("schedules:detail", args=[schedule.pk])),
        },
        "journey": {"slug": journey.slug, "name": journey.name},
        "run": {
            "id": str(run.pk) if run else None,
            "batch_id": str(tick.batch_id) if tick.batch_id else None,
            "status": run.status if run else tick.outcome,
            "url": link,
            "due_at": tick.due_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run and run.finished_at else None,
        },
        "consecutive_failures": schedule.consecutive_failures,
        "failing_since": schedule.failing_since.isoformat() if schedule.failing_since else None,
        "failure": failure,
    }


def _emit(schedule: Schedule, tick: Tick, event: str, now: datetime) -> None:
    payload = build_payload(schedule, tick, event)
    AlertDelivery.objects.bulk_create(
        AlertDelivery(
            schedule=schedule,
            channel=channel,
            channel_name=channel.name,
            channel_kind=channel.kind,
            tick=tick,
            event=event,
            payload=payload,
            next_attempt_at=now,
        )
        for channel in schedule.channels.all()
    )


def alerts_for_outcome(schedule: Schedule, tick: Tick, now: datetime) -> None:
    """Move ``schedule``'s alert state by one settled ``tick``; queue any alert (caller saves)."""
    if tick.outcome == TickOutcome.PASSED:
        was_failing = schedule.alert_state == AlertState.FAILING
        schedule.alert_state = AlertState.PASSING
        schedule.consecutive_failures = 0
        schedule.failing_since = None
        if was_failing:
            _emit(schedule, tick, AlertEvent.RECOVERED, now)
    elif tick.outcome == TickOutcome.FAILED:
        schedule.consecutive_failures += 1
        if schedule.consecutive_failures == 1:
            schedule.failing_since = tick.due_at
        threshold = max(1, schedule.failure_threshold)
        if (
            schedule.consecutive_failures >= threshold
            and schedule.alert_state != AlertState.FAILING
        ):
            schedule.alert_state = AlertState.FAILING
            _emit(schedule, tick, AlertEvent.FAILING, now)


class DeliveryFailed(Exception):
    """The channel did not take the alert; ``permanent`` means retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def _email(channel: AlertChannel, payload: dict[str, Any]) -> None:
    addresses = [a.strip() for a in channel.target.split(",") if a.strip()]
    subject = payload["text"].split(". ", 1)[0][:150]
    body = json.dumps(payload, indent=2, ensure_ascii=False)
    try:
        send_mail(
            subject,
            f"{payload['text']}\n\n{body}\n",
            settings.DEFAULT_FROM_EMAIL,
            addresses,
        )
    except OSError as exc:
        raise DeliveryFailed(f"the mail server did not take it: {exc}") from exc


def webhook_post(channel: AlertChannel, payload: dict[str, Any], *, delivery_id: str) -> int:
    """POST ``payload`` to the channel's URL under the workspace's egress policy, signed.

    ``delivery_id`` goes in ``X-Reqflo-Delivery`` (and is in the signed body). Only the
    answer's status is read, never its body. Returns the status (2xx); raises
    ``DeliveryFailed`` otherwise.
    """
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Reqflo-Alerts/1",
        SIGNATURE_HEADER: signature(signing_secret(channel), int(time.time()), body),
        "X-Reqflo-Event": str(payload["event"]),
        DELIVERY_HEADER: delivery_id,
    }
    transport = workspace_transport(channel.workspace)
    # One attempt ends within WEBHOOK_TIMEOUT_SECONDS of wall time, whatever the receiver does:
    # httpx's timeout bounds each read, and a receiver sending a header byte every few seconds
    # would hold an alerts thread (and outlive the delivery's claim) for as long as it liked.
    enforce_deadlines(transport)
    try:
        with (
            exchange_deadline(time.monotonic() + WEBHOOK_TIMEOUT_SECONDS),
            httpx.Client(
                transport=transport, timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False
            ) as client,
            client.stream("POST", channel.target, content=body, headers=headers) as response,
        ):
            status = response.status_code
    except EgressBlocked as exc:
        raise DeliveryFailed(str(exc), permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(
            f"the receiver answered {status}",
            permanent=400 <= status < 500 and status not in (408, 429),
            status=status,
        )
    return status


def _send(delivery: AlertDelivery, channel: AlertChannel) -> int | None:
    """Send one attempt; return the webhook's answer status (None for email)."""
    payload = {**delivery.payload, "delivery_id": str(delivery.key)}
    if channel.kind == ChannelKind.EMAIL:
        _email(channel, payload)
        return None
    return webhook_post(channel, payload, delivery_id=str(delivery.key))


def _claim(delivery_id: int, now: datetime) -> tuple[AlertDelivery, UUID] | None:
    """Take one due delivery for one attempt, or None when it is not pending and due.

    One conditional UPDATE moves it ``pending`` → ``sending`` under a new token: of any number
    of workers racing for it, exactly one gets the row.
    """
    token = uuid4()
    taken = AlertDelivery.objects.filter(
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        channel__isnull=False,
    ).update(
        status=DeliveryStatus.SENDING,
        claim_token=token,
        claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
        attempts=F("attempts") + 1,
        enqueued_at=None,
    )
    if not taken:
        return None
    delivery = AlertDelivery.objects.select_related("channel__workspace").get(pk=delivery_id)
    return delivery, token


def alert_deliver(delivery_id: int, now: datetime | None = None) -> bool:
    """Make one attempt at one delivery if it is pending and due; return whether one was made.

    The outcome (delivered; pending with the next retry time; failed with the reason) is
    written only under this attempt's claim token: an attempt whose claim was released as
    stale (``alerts_release_stale``) changes nothing.
    """
    now = now or timezone.now()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return False
    delivery, token = claimed
    outcome: dict[str, Any] = {"claim_token": None, "claimed_until": None}
    channel = delivery.channel
    try:
        if channel is None:  # deleted between the claim and now
            raise DeliveryFailed(CHANNEL_GONE, permanent=True)
        outcome["response_status"] = _send(delivery, channel)
    except DeliveryFailed as exc:
        outcome.update(last_error=str(exc)[:2000], response_status=exc.status)
        if exc.permanent or delivery.attempts > len(RETRY_DELAYS):
            outcome["status"] = DeliveryStatus.FAILED
        else:
            outcome["status"] = DeliveryStatus.PENDING
            outcome["next_attempt_at"] = now + RETRY_DELAYS[delivery.attempts - 1]
        logger.warning(
            "Alert delivery %s to channel %s failed (attempt %d): %s",
            delivery.pk,
            delivery.channel_name,
            delivery.attempts,
            outcome["last_error"],
        )
    else:
        outcome.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error="")
    AlertDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(**outcome)
    return True


def _due(now: datetime) -> QuerySet[AlertDelivery]:
    return AlertDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, channel__isnull=False
    )


def alerts_deliver(now: datetime | None = None) -> int:
    """Attempt every due delivery here, one after another; return how many attempts were made.

    The in-process path (tests, a shell); the tick publishes ``alerts_enqueue`` instead.
    """
    now = now or timezone.now()
    due = list(_due(now).order_by("next_attempt_at").values_list("pk", flat=True)[:DELIVER_BATCH])
    return sum(alert_deliver(delivery_id, now) for delivery_id in due)


def alerts_release_stale(now: datetime) -> int:
    """Give back claims older than ``CLAIM_SECONDS`` (their sender died); return how many.

    The attempt counts; the delivery is due again at once and says what happened.
    """
    return AlertDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    ).update(
        status=DeliveryStatus.PENDING,
        claim_token=None,
        claimed_until=None,
        last_error=STALE_CLAIM,
    )


def alerts_enqueue(now: datetime | None = None) -> int:
    """Publish one delivery task per due delivery on the alerts queue; return how many.

    Called by the tick, which never sends anything itself: a slow receiver holds an alerts
    worker, never the dispatch of schedules. A delivery is published again only when its
    message has waited ``REPUBLISH_SECONDS`` unclaimed (lost); a duplicate message is harmless,
    since one claim makes one attempt.
    """
    now = now or timezone.now()
    alerts_release_stale(now)
    lost = now - timedelta(seconds=REPUBLISH_SECONDS)
    with transaction.atomic():
        due = list(
            _due(now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost))
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:ENQUEUE_BATCH]
        )
        AlertDelivery.objects.filter(pk__in=due).update(enqueued_at=now)
    published = []
    try:
        for delivery_id in due:
            celery_app.send_task(
                settings.REQFLO_ALERTS_TASK,
                args=[delivery_id],
                queue=settings.REQFLO_ALERTS_QUEUE,
            )
            published.append(delivery_id)
    except OperationalError as exc:
        logger.warning("Alert deliveries not published (the next tick retries): %s", exc)
        unsent = set(due) - set(published)
        AlertDelivery.objects.filter(pk__in=unsent, enqueued_at=now).update(enqueued_at=None)
    return len(published)
