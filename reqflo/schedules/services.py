"""Writes of schedules and alert channels; every rule a page or the API relies on is here.

Editors and owners manage schedules; owners manage alert channels (a webhook URL often carries
a token, such as Slack's). Views check the role; these functions check everything else and raise
``ValidationError`` with a message per field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.engine import Artifact
from reqflo.engine.data_rows import LABEL_COLUMNS
from reqflo.engine.egress import egress_violation, url_port
from reqflo.engine.errors import suggest
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.journeys.services import build_artifact_for_version
from reqflo.runners.config import runner_config_for
from reqflo.runners.services import batch_check
from reqflo.runs.inputs import secret_input_names
from reqflo.schedules.models import AlertChannel, ChannelKind, DeliveryStatus, Schedule
from reqflo.schedules.ticks import archived_dependency, archived_reason, timing_of
from reqflo.schedules.timing import check_cron, check_interval, check_timezone

MAX_THRESHOLD = 100
MAX_ROW_ERRORS = 5
# A row's input issue: ``rows[3].inputs.n`` (a value) or ``rows[3].inputs[0]`` (a missing one).
_ROW_PATH = re.compile(r"rows\[(\d+)\]\.inputs(?:\.(.+)|\[\d+\])")


@dataclass(frozen=True)
class DataFile:
    """A data file's name and its rows (as ``reqflo.engine.data_rows.read_rows`` gives them)."""

    name: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class ScheduleFields:
    """What a schedule form or API call sets (``interval_seconds`` or ``cron``, not both)."""

    name: str
    journey: Journey
    environment: Environment
    version: JourneyVersion | None = None
    case: Case | None = None
    interval_seconds: int | None = None
    cron: str = ""
    timezone: str = "UTC"
    failure_threshold: int = 2
    channels: Sequence[AlertChannel] = ()
    # A data file makes each tick a batch, one run per row; None runs once (no data file).
    data_file: DataFile | None = None
    # True leaves a changed schedule's data file as it is (``data_file`` is then ignored).
    keep_data_file: bool = False


def _check_rows(fields: ScheduleFields, data: DataFile) -> None:
    """Refuse rows the journey would refuse, naming the row and column of each (first few)."""
    version = fields.version or fields.journey.head
    if version is None:
        return
    plan = Artifact.from_json(build_artifact_for_version(version=version).plan).plan
    columns = {name for row in data.rows for name in row}
    declared = [str(decl["name"]) for decl in plan["inputs"]]
    unknown = sorted(columns - set(declared) - set(LABEL_COLUMNS))
    if unknown:
        # A schedule keeps its file and runs it unattended: a mistyped column would run every
        # tick with the input's default, so it is refused here (the CLI warns and ignores it).
        inputs = ", ".join(f"'{name}'" for name in declared) or "none"
        raise ValidationError(
            {
                "data_file": [
                    f"{data.name} column '{name}' is not an input of journey "
                    f"{fields.journey.name}{suggest(name, declared)} (its inputs: {inputs}; "
                    f"label columns: {', '.join(LABEL_COLUMNS)})."
                    for name in unknown[:MAX_ROW_ERRORS]
                ]
            }
        )
    if secret := sorted(columns & secret_input_names(plan)):
        raise ValidationError(
            {
                "data_file": f"{data.name} column '{secret[0]}' is a secret input: a schedule "
                "keeps its data file, so a secret cannot be in it. Put the secret in the secret "
                "store and use it from the journey ({{ secrets.name }})."
            }
        )
    issues = batch_check(
        workspace=fields.journey.workspace,
        version=version,
        environment=fields.environment,
        case=fields.case,
        rows=data.rows,
    )
    messages = []
    for issue in issues:
        if match := _ROW_PATH.fullmatch(issue.path):
            where = f"{data.name} row {int(match[1]) + 1}"
            where += f", column '{match[2]}'" if match[2] else ""
            messages.append(f"{where}: {issue.message}")
    if messages:
        more = len(messages) - MAX_ROW_ERRORS
        shown = messages[:MAX_ROW_ERRORS] + ([f"… and {more} more."] if more > 0 else [])
        raise ValidationError({"data_file": shown})


def _check(
    workspace: Workspace, fields: ScheduleFields, data: DataFile | None, *, kept_zone: str | None
) -> None:
    errors: dict[str, str] = {}
    if not fields.name.strip():
        errors["name"] = "Give the schedule a name."
    if fields.journey.workspace_id != workspace.pk:
        errors["journey"] = "That journey is not in this workspace."
    elif fields.journey.archived:
        errors["journey"] = "That journey is archived."
    if fields.environment.workspace_id != workspace.pk:
        errors["environment"] = "That environment is not in this workspace."
    elif fields.environment.archived:
        errors["environment"] = "That environment is archived."
    if fields.version is not None and fields.version.journey_id != fields.journey.pk:
        errors["version"] = "That version belongs to another journey."
    if fields.case is not None and fields.case.journey_id != fields.journey.pk:
        errors["case"] = "That case belongs to another journey."
    elif fields.case is not None and fields.case.archived:
        errors["case"] = "That case is archived."
    if any(channel.workspace_id != workspace.pk for channel in fields.channels):
        errors["channels"] = "An alert channel is not in this workspace."
    if not 1 <= fields.failure_threshold <= MAX_THRESHOLD:
        errors["failure_threshold"] = f"Alert after 1 to {MAX_THRESHOLD} failed runs in a row."
    if (fields.interval_seconds is None) == (not fields.cron.strip()):
        errors["interval_seconds"] = "Give either an interval or a cron expression."
    if errors:
        raise ValidationError(errors)
    if fields.interval_seconds is not None:
        check_interval(fields.interval_seconds)
    else:
        check_cron(fields.cron.strip(), fields.timezone, kept_zone=kept_zone)
    check_timezone(fields.timezone, kept=kept_zone)
    if data is not None:
        _check_rows(fields, data)


def _first_due(schedule: Schedule, now: datetime) -> datetime:
    """An interval schedule runs at once (or one interval after its last tick); cron at its time."""
    if schedule.interval_seconds is not None:
        if schedule.last_tick_at is None:
            return now
        return max(now, schedule.last_tick_at + timedelta(seconds=schedule.interval_seconds))
    return timing_of(schedule).after(now)


@transaction.atomic
def schedule_save(
    *, workspace: Workspace, by: User, fields: ScheduleFields, schedule: Schedule | None = None
) -> Schedule:
    """Create a schedule (``schedule`` None) or change one; returns it saved.

    A change of timing moves the next due time; other changes keep it. A data file's rows
    (given, or kept) must pass the journey's Run check, each refusal naming its row and
    column. Raises ``ValidationError`` naming each wrong field.
    """
    if schedule is not None and schedule.workspace_id != workspace.pk:
        raise ValidationError("That schedule is not in this workspace.")
    data = fields.data_file
    if fields.keep_data_file:
        kept = schedule.data_rows if schedule is not None else None
        data = DataFile(schedule.data_name, kept) if schedule is not None and kept else None
    _check(workspace, fields, data, kept_zone=schedule.timezone if schedule is not None else None)
    if schedule is None:
        schedule = Schedule(workspace=workspace, created_by=by)
    old_timing = (schedule.interval_seconds, schedule.cron, schedule.timezone)
    schedule.name = fields.name.strip()[:120]
    schedule.journey = fields.journey
    schedule.version = fields.version
    schedule.environment = fields.environment
    schedule.case = fields.case
    schedule.interval_seconds = fields.interval_seconds
    schedule.cron = "" if fields.interval_seconds is not None else fields.cron.strip()
    schedule.timezone = fields.timezone
    schedule.failure_threshold = fields.failure_threshold
    schedule.data_rows = data.rows if data else None
    schedule.data_name = data.name[:200] if data else ""
    new_timing = (schedule.interval_seconds, schedule.cron, schedule.timezone)
    if schedule._state.adding or (new_timing != old_timing and not schedule.paused):
        schedule.next_due_at = _first_due(schedule, timezone.now())
    schedule.save()
    schedule.channels.set(fields.channels)
    return schedule


def schedule_pause(*, schedule: Schedule) -> Schedule:
    """Stop dispatching ``schedule`` (its history and alert state are kept)."""
    Schedule.objects.filter(pk=schedule.pk).update(
        paused=True, paused_reason="", updated_at=timezone.now()
    )
    schedule.refresh_from_db()
    return schedule


def schedules_pause_for_archived(*, instance: Journey | Environment | Case, **_: Any) -> int:
    """Pause the schedules that run ``instance`` (just archived), saying why; return how many.

    Receiver of ``reqflo.journeys.signals.archived``: inside the archiving transaction.
    """
    field = type(instance).__name__.lower()
    return Schedule.objects.filter(**{field: instance}, paused=False).update(
        paused=True, paused_reason=archived_reason(instance), updated_at=timezone.now()
    )


def schedules_using(obj: Environment | Case) -> list[str]:
    """Name the schedules that use ``obj`` ("schedule 'Nightly'"), for refusing its delete."""
    field = type(obj).__name__.lower()
    names = Schedule.objects.filter(**{field: obj}).order_by("name").values_list("name", flat=True)
    return [f"schedule '{name}'" for name in names]


def schedule_resume(*, schedule: Schedule) -> Schedule:
    """Dispatch ``schedule`` again from its next due time after now (no catch-up of the pause).

    Raises ``ValidationError`` while its journey, environment or case is archived.
    """
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        used = archived_dependency(locked)
        if used is not None:
            kind = type(used).__name__.lower()
            raise ValidationError(f"Restore the {kind} {used.name} first: it is archived.")
        if locked.paused:
            locked.paused = False
            locked.paused_reason = ""
            locked.next_due_at = _first_due(locked, timezone.now())
            locked.save(update_fields=["paused", "paused_reason", "next_due_at", "updated_at"])
    schedule.refresh_from_db()
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    """Delete ``schedule``, its ticks and alert log; its runs stay in the run history."""
    schedule.delete()


def _check_channel(workspace: Workspace, kind: str, target: str) -> str:
    target = target.strip()
    if kind == ChannelKind.EMAIL:
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        if not addresses:
            raise ValidationError({"target": "Give one or more email addresses, comma-separated."})
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(
                    {"target": f"{address[:80]} is not an email address."}
                ) from None
        return ", ".join(addresses)
    if kind != ChannelKind.WEBHOOK:
        raise ValidationError({"kind": "Choose email or webhook."})
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"target": "A webhook URL starts with https:// (or http://)."})
    if parts.username or parts.password:
        raise ValidationError({"target": "Put no user name or password in the webhook URL."})
    config = runner_config_for(workspace_id=workspace.pk)
    try:
        port = url_port(parts) or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationError({"target": f"Webhook URL: {exc}."}) from None
    refused = egress_violation(
        parts.hostname,
        port,
        allow=config.egress_allow_hosts,
        allow_private=settings.REQFLO_EGRESS_ALLOW_PRIVATE,
    )
    if refused:
        raise ValidationError({"target": refused})
    return target


def channel_save(
    *,
    workspace: Workspace,
    by: User,
    name: str,
    kind: str,
    target: str,
    channel: AlertChannel | None = None,
) -> AlertChannel:
    """Create or change an alert channel; a webhook URL must pass the egress policy now.

    Raises ``ValidationError`` naming the field (a taken name, a bad address or URL, a URL the
    workspace's egress policy refuses).
    """
    if not name.strip():
        raise ValidationError({"name": "Give the channel a name."})
    target = _check_channel(workspace, kind, target)
    if channel is None:
        channel = AlertChannel(workspace=workspace, created_by=by)
    channel.name, channel.kind, channel.target = name.strip()[:120], kind, target
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError:
        raise ValidationError({"name": "Another channel has that name."}) from None
    return channel


def channel_rotate_secret(*, channel: AlertChannel) -> AlertChannel:
    """Give the webhook a new signing secret (the old one stops verifying at once)."""
    channel.signing_salt = uuid.uuid4()
    channel.save(update_fields=["signing_salt", "updated_at"])
    return channel


CHANNEL_DELETED = "The channel was deleted before this alert was sent."


@transaction.atomic
def channel_delete(*, channel: AlertChannel) -> None:
    """Delete the channel; schedules stop alerting to it and its delivery log stays.

    Each delivery keeps the channel's name and kind (``AlertDelivery.channel`` becomes None);
    one still pending is marked failed with the reason, never sent.
    """
    channel.deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error=CHANNEL_DELETED
    )
    channel.delete()
