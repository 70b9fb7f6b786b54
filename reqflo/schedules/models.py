"""Schedules, their ticks, alert channels and alert deliveries.

A ``Schedule`` is due at ``next_due_at``; the tick task (``reqflo.schedules.ticks``) dispatches
each due tick once through the idempotent dispatch (key ``schedule:<id>:<tick>``) and records a
``Tick``. When a tick's run ends, the schedule's alert state moves and, on a change, one
``AlertDelivery`` per channel is written in the same transaction (an outbox), then delivered
with retries.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from reqflo.core.fields import ExactJSONField
from reqflo.core.models import BaseModel, Workspace
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.runs.models import Run

MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 31 * 24 * 3600
# How many settled results a schedule keeps for its state (flapping) and response-time trend.
RECENT_RESULTS = 30


class AlertState(models.TextChoices):
    UNKNOWN = "unknown", "No result yet"
    PASSING = "passing", "Passing"
    FAILING = "failing", "Failing"


class Schedule(BaseModel):
    """A journey run on the Cloud Runner every ``interval_seconds`` or on a cron expression.

    Exactly one of ``interval_seconds`` (≥ 60) and ``cron`` is set; ``cron`` is read in
    ``timezone`` (an IANA name). ``version`` None means the journey's latest version at each
    tick. ``data_rows`` set makes each tick a batch. Alerts go to ``channels`` after
    ``failure_threshold`` consecutive failed ticks, and once on recovery.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(
        JourneyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data_rows = ExactJSONField(null=True, blank=True)
    data_name = models.CharField(max_length=200, blank=True, default="")
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=120, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")
    paused = models.BooleanField(default=False)
    # Why it was paused when not by a person ("Paused: its journey Checkout was archived."); ""
    # for a pause from the page.
    paused_reason = models.CharField(max_length=300, blank=True, default="")
    next_due_at = models.DateTimeField(null=True, blank=True)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    skipped_ticks = models.PositiveIntegerField(default=0)
    failure_threshold = models.PositiveSmallIntegerField(default=2)
    channels: models.ManyToManyField[AlertChannel, Any] = models.ManyToManyField(
        "AlertChannel", blank=True, related_name="schedules"
    )
    alert_state = models.CharField(
        max_length=10, choices=AlertState.choices, default=AlertState.UNKNOWN
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The last RECENT_RESULTS settled results, oldest first, kept as each tick settles (health
    # reads them here, not from the ticks): [{"at": ISO due time, "outcome": …, "ms": int|None}].
    recent = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["paused", "next_due_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(interval_seconds__isnull=False, cron="")
                    | models.Q(interval_seconds__isnull=True) & ~models.Q(cron="")
                ),
                name="schedule_interval_or_cron",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_seconds__isnull=True)
                | models.Q(interval_seconds__gte=MIN_INTERVAL_SECONDS),
                name="schedule_interval_at_least_60s",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TickOutcome(models.TextChoices):
    PENDING = "pending", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Cancelled"


class Tick(models.Model):
    """One due time of a schedule and what it dispatched: a run, a batch, or a refusal.

    ``(schedule, due_at)`` is unique, so a tick is recorded once however many tick tasks run.
    ``outcome`` stays ``pending`` until the run (or every run of the batch) has ended. Settled
    ticks are deleted ``REQFLO_SCHEDULE_TICKS_KEEP_DAYS`` after their due time (the runs stay).
    """

    id = models.BigAutoField(primary_key=True)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="ticks")
    due_at = models.DateTimeField()
    dispatched_at = models.DateTimeField()
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    batch_id = models.UUIDField(null=True, blank=True)
    refused = models.TextField(blank=True, default="")
    outcome = models.CharField(
        max_length=10, choices=TickOutcome.choices, default=TickOutcome.PENDING
    )
    # How long the run took (ms), for the response-time trend; None for a refusal or a batch.
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="tick_once_per_due_time"),
        ]
        indexes = [
            models.Index(fields=["outcome", "schedule"]),
            models.Index(fields=["due_at"], name="tick_due_at_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} tick {self.due_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class AlertChannel(BaseModel):
    """Where alerts go: email addresses, or a webhook URL (Slack incoming webhooks included).

    A webhook's payload is signed with HMAC-SHA256 under ``signing_secret`` (derived from the
    server's SECRET_KEY and ``signing_salt``; a new salt rotates it).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    target = models.TextField()
    signing_salt = models.UUIDField(default=uuid.uuid4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="alert_channel_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AlertEvent(models.TextChoices):
    FAILING = "failing", "Failing"
    RECOVERED = "recovered", "Recovered"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class AlertDelivery(models.Model):
    """One alert to one channel: its payload, attempts and what the receiver answered.

    The log outlives its channel: deleting a channel sets ``channel`` to None and keeps the
    row, with ``channel_name`` and ``channel_kind`` as they were when the alert was written (an
    auditor reads where each alert went, even to a channel since removed). A delivery still
    pending when its channel is deleted is marked failed with that reason.

    One attempt is one claim: ``status`` moves ``pending`` → ``sending`` in one conditional
    UPDATE that sets ``claim_token`` and ``claimed_until``, so one worker sends it however many
    messages name it; the outcome is written only under that token. ``key`` is the stable
    delivery id every attempt carries (``X-Reqflo-Delivery``), for receivers to de-duplicate.
    ``enqueued_at`` is when a delivery task for it was last published.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(
        AlertChannel, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    channel_name = models.CharField(max_length=120, blank=True, default="")
    channel_kind = models.CharField(max_length=10, choices=ChannelKind.choices, blank=True)
    tick = models.ForeignKey(Tick, on_delete=models.SET_NULL, null=True, related_name="+")
    event = models.CharField(max_length=10, choices=AlertEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} alert to {self.channel_name} ({self.status})"
