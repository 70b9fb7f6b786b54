"""Alerts: one message per state change of a schedule, delivered with retries.

State (``Schedule.alert_state``) moves as each tick settles, in due-time order:

- a passed tick makes the schedule ``passing``; if it was ``failing``, a **recovered** alert;
- a failed tick (a failed or errored run, or a refused dispatch) adds to the consecutive
  failures; reaching ``failure_threshold`` makes it ``failing`` with a **failing** alert, once;
- a cancelled run changes nothing.

Each alert is one ``AlertDelivery`` per channel, written in the transaction that moved the state
(an outbox), then sent by ``alerts_deliver``: email through Django's mail backend, webhooks as a
JSON POST through the workspace's egress policy, signed with HMAC-SHA256. Failed deliveries are
retried with backoff (``RETRY_DELAYS``), then marked failed with the reason; every attempt's
outcome is on the schedule's page.

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

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

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
# A claimed delivery is left alone this long (the sender is working on it, or died).
CLAIM_SECONDS = 120
WEBHOOK_TIMEOUT_SECONDS = 10.0
DELIVER_BATCH = 20
SIGNATURE_HEADER = "X-Reqflo-Signature"


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


def _claim(now: datetime) -> list[AlertDelivery]:
    with transaction.atomic():
        due = list(
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .select_related("channel", "schedule__workspace")
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, channel__isnull=False)
            .order_by("next_attempt_at")[:DELIVER_BATCH]
        )
        AlertDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
    return due


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


def webhook_post(channel: AlertChannel, payload: dict[str, Any]) -> int:
    """POST ``payload`` to the channel's URL under the workspace's egress policy, signed.

    Returns the response status (2xx); raises ``DeliveryFailed`` otherwise.
    """
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Reqflo-Alerts/1",
        SIGNATURE_HEADER: signature(signing_secret(channel), int(time.time()), body),
        "X-Reqflo-Event": str(payload["event"]),
    }
    transport = workspace_transport(channel.workspace)
    try:
        with httpx.Client(
            transport=transport, timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False
        ) as client:
            response = client.post(channel.target, content=body, headers=headers)
    except EgressBlocked as exc:
        raise DeliveryFailed(str(exc), permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(
            f"the receiver answered {response.status_code}",
            permanent=400 <= response.status_code < 500 and response.status_code not in (408, 429),
            status=response.status_code,
        )
    return response.status_code


def _attempt(delivery: AlertDelivery, now: datetime) -> None:
    delivery.attempts += 1
    channel = delivery.channel
    assert channel is not None  # _claim takes only deliveries with a channel
    try:
        if channel.kind == ChannelKind.EMAIL:
            _email(channel, delivery.payload)
        else:
            delivery.response_status = webhook_post(channel, delivery.payload)
    except DeliveryFailed as exc:
        delivery.last_error = str(exc)[:2000]
        delivery.response_status = exc.status
        if exc.permanent or delivery.attempts > len(RETRY_DELAYS):
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        logger.warning(
            "Alert delivery %s to channel %s failed (attempt %d): %s",
            delivery.pk,
            delivery.channel_name,
            delivery.attempts,
            delivery.last_error,
        )
    else:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "next_attempt_at",
            "last_error",
            "response_status",
            "delivered_at",
        ]
    )


def alerts_deliver(now: datetime | None = None) -> int:
    """Send the alerts that are due (new, or whose retry delay has passed); return how many."""
    now = now or timezone.now()
    claimed = _claim(now)
    for delivery in claimed:
        _attempt(delivery, now)
    return len(claimed)
