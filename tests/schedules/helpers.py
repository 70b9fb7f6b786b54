"""Helpers of the schedules tests: a schedule on the runs tests' scenario, and ending runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from reqflo.runs.models import Run, RunStatus
from reqflo.schedules.alerts import SIGNATURE_HEADER
from reqflo.schedules.models import AlertChannel, ChannelKind, Schedule
from reqflo.schedules.services import ScheduleFields, channel_save, schedule_save
from tests.runs.fixtures import Scenario


def make_schedule(
    scenario: Scenario,
    *,
    interval: int | None = 60,
    cron: str = "",
    threshold: int = 2,
    channels: list[AlertChannel] | None = None,
    **fields: Any,
) -> Schedule:
    return schedule_save(
        workspace=scenario.workspace,
        by=scenario.owner,
        fields=ScheduleFields(
            name=fields.pop("name", "Every minute"),
            journey=scenario.version.journey,
            environment=fields.pop("environment", scenario.environment),
            interval_seconds=interval,
            cron=cron,
            failure_threshold=threshold,
            channels=channels or [],
            **fields,
        ),
    )


def webhook_channel(
    scenario: Scenario, receiver: Receiver, name: str = "hook", path: str = "/hook"
) -> AlertChannel:
    """A webhook channel posting to ``receiver`` at ``path``."""
    return channel_save(
        workspace=scenario.workspace,
        by=scenario.owner,
        name=name,
        kind=ChannelKind.WEBHOOK,
        target=f"{receiver.url}{path}",
    )


def schedule_form(scenario: Scenario, **changes: Any) -> dict[str, Any]:
    """The schedule form's fields as a browser posts them: every 300 s, the scenario's journey."""
    return {
        "name": "Checkout monitor",
        "journey": str(scenario.version.journey.pk),
        "version": "",
        "environment": str(scenario.environment.pk),
        "case": "",
        "timing": "interval",
        "interval_seconds": "300",
        "cron": "",
        "timezone": "UTC",
        "failure_threshold": "2",
        **changes,
    }


def finish(run: Run, status: str = RunStatus.PASSED, *, took_ms: int = 120) -> None:
    """End a queued run as a worker would (no worker in these tests): status and times."""
    started = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        status=status,
        started_at=started,
        finished_at=started + timedelta(milliseconds=took_ms),
        error_message="" if status == RunStatus.PASSED else "1 assertion failed",
    )


def schedule_runs(schedule: Schedule) -> list[Run]:
    return list(
        Run.objects.filter(idempotency_key__startswith=f"schedule:{schedule.pk}:").order_by(
            "created_at"
        )
    )


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers ``statuses`` in turn (then 200), keeps bodies.

    While ``hold`` is set, each request is recorded at once and answered only once ``release``
    is set (a slow receiver).
    """

    url: str = ""
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """The payloads whose signature verifies under ``secret`` (the receiver's check)."""
        good = []
        for headers, body in self.received:
            parts = dict(item.split("=", 1) for item in headers[SIGNATURE_HEADER].split(","))
            expected = hmac.new(
                secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
            ).hexdigest()
            if hmac.compare_digest(expected, parts["v1"]):
                good.append(json.loads(body))
        return good
