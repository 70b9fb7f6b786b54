"""Change a workspace's Cloud Runner settings (Admin → Runners), and say what changed.

``runner_config_update`` is the one way settings change: it validates every value (errors name
the field, and for the egress allow-list the entry), saves, and records who changed what from
which value to which. ``reqflo.runners.config.runner_config_for`` reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from reqflo.engine.egress import AllowEntryError, allow_entry
from reqflo.runners.admission import runs_enqueue_waiting
from reqflo.runners.labels import clean_labels
from reqflo.runners.models import RetryPolicy, RunnerChoice, RunnerConfig, RunnerConfigChange

# What an owner may change, with the words the page and the change log use.
FIELD_LABELS: dict[str, str] = {
    "region": "Region",
    "step_timeout_seconds": "Step timeout",
    "run_timeout_seconds": "Run timeout",
    "concurrency_limit": "Concurrency limit",
    "retry_policy": "Retry policy",
    "max_attempts": "Max attempts",
    "step_max_retries": "Step retries at most",
    "step_max_retry_delay_seconds": "Step retry delay at most",
    "egress_allow_hosts": "Egress allow-list",
    "default_runner": "Default runner",
    "default_runner_labels": "Default runner labels",
}
# Changes recorded with the settings' but made elsewhere (``reqflo.runners.selfhosted``).
OTHER_LABELS = {"self_hosted_runner": "Self-hosted runner"}
# (lowest, highest) of each whole-number setting; seconds unless the name says otherwise.
BOUNDS: dict[str, tuple[int, int]] = {
    "step_timeout_seconds": (1, 3600),
    "run_timeout_seconds": (1, 86400),
    "concurrency_limit": (1, 1000),
    "max_attempts": (1, 20),
    "step_max_retries": (0, 20),
    "step_max_retry_delay_seconds": (0, 600),
}
SECONDS = frozenset({"step_timeout_seconds", "run_timeout_seconds", "step_max_retry_delay_seconds"})
REGION = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
MAX_ALLOW_ENTRIES = 200


def _whole_number(field: str, value: Any) -> int:
    low, high = BOUNDS[field]
    label = FIELD_LABELS[field]
    unit = " s" if field in SECONDS else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{label} must be a whole number.")
    if not low <= value <= high:
        raise ValidationError(f"{label} must be between {low}{unit} and {high}{unit}.")
    return int(value)


def _region(value: Any) -> str:
    region = str(value).strip().lower() if value is not None else ""
    if region and not REGION.match(region):
        raise ValidationError(
            f"Region “{value}” may use only lower-case letters, digits and hyphens (at most "
            "60, not starting or ending with a hyphen), e.g. eu or us-east; it names the queue "
            "reqflo.<region>."
        )
    return region


def _allow_list(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValidationError("The egress allow-list must be a list of entries.")
    entries: list[str] = []
    errors: list[str] = []
    for number, raw in enumerate(value, start=1):
        text = str(raw).strip()
        if not text:
            continue
        try:
            entry = allow_entry(text)
        except AllowEntryError as exc:
            errors.append(f"Entry {number}, “{text}”, {exc}.")
            continue
        if entry not in entries:
            entries.append(entry)
    if errors:
        raise ValidationError(errors)
    if len(entries) > MAX_ALLOW_ENTRIES:
        raise ValidationError(
            f"The egress allow-list has {len(entries)} entries; at most {MAX_ALLOW_ENTRIES} "
            "are allowed (list a network instead of its hosts)."
        )
    return entries


def _clean(field: str, value: Any) -> Any:
    if field == "region":
        return _region(value)
    if field == "retry_policy":
        if value not in RetryPolicy.values:
            choices = ", ".join(RetryPolicy.values)
            raise ValidationError(f"Retry policy “{value}” is not one of: {choices}.")
        return str(value)
    if field == "egress_allow_hosts":
        return _allow_list(value)
    if field == "default_runner":
        if value not in RunnerChoice.values:
            choices = ", ".join(RunnerChoice.values)
            raise ValidationError(f"Default runner “{value}” is not one of: {choices}.")
        return str(value)
    if field == "default_runner_labels":
        try:
            return clean_labels(value, field=field)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[field]) from None
    return _whole_number(field, value)


@transaction.atomic
def runner_config_update(
    *, config: RunnerConfig, by: User, **changes: Any
) -> RunnerConfigChange | None:
    """Validate and save ``changes`` to ``config``; return the recorded change, None if none.

    Raises ``ValidationError`` with one message per field (nothing is saved then). ``config``
    is updated in place. Raising the concurrency limit or moving to another region nudges the
    runs that were waiting, so they start without waiting for the sweeper.
    """
    unknown = sorted(set(changes) - set(FIELD_LABELS))
    if unknown:
        raise TypeError(f"runner_config_update() got settings it does not know: {unknown}")
    locked = RunnerConfig.objects.select_for_update().get(pk=config.pk)
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in changes.items():
        try:
            cleaned[field] = _clean(field, value)
        except ValidationError as exc:
            errors[field] = exc.messages
    step = cleaned.get("step_timeout_seconds", locked.step_timeout_seconds)
    run = cleaned.get("run_timeout_seconds", locked.run_timeout_seconds)
    timeouts_valid = "run_timeout_seconds" not in errors and "step_timeout_seconds" not in errors
    if timeouts_valid and run < step:
        errors["run_timeout_seconds"] = [
            f"Run timeout ({run} s) must be at least the step timeout ({step} s)."
        ]
    if errors:
        raise ValidationError(errors)
    diff = {
        field: {"old": getattr(locked, field), "new": value}
        for field, value in cleaned.items()
        if getattr(locked, field) != value
    }
    if not diff:
        return None
    for field in diff:
        setattr(locked, field, cleaned[field])
        setattr(config, field, cleaned[field])
    locked.save(update_fields=[*diff, "updated_at"])
    change = RunnerConfigChange.objects.create(
        workspace_id=locked.workspace_id, changed_by=by, changes=diff
    )
    limit = diff.get("concurrency_limit")
    if "region" in diff or (limit is not None and limit["new"] > limit["old"]):
        workspace_id = locked.workspace_id
        transaction.on_commit(lambda: runs_enqueue_waiting(workspace_id=workspace_id))
    return change


@dataclass(frozen=True)
class ChangedValue:
    label: str
    old: str
    new: str


def describe_value(field: str, value: Any) -> str:
    """Return a setting's value in words, as the page and the change log show it."""
    if field == "region":
        return str(value) if value else "(default)"
    if field == "retry_policy":
        return str(RetryPolicy(value).label) if value in RetryPolicy.values else str(value)
    if field == "egress_allow_hosts":
        return ", ".join(value) if value else "(none)"
    if field == "default_runner":
        return str(RunnerChoice(value).label) if value in RunnerChoice.values else str(value)
    if field == "default_runner_labels":
        return ", ".join(value) if value else "(any self-hosted runner)"
    if field in OTHER_LABELS:
        return "—" if value is None else str(value)
    if field in SECONDS:
        return f"{value} s"
    return str(value)


def describe_change(change: RunnerConfigChange) -> list[ChangedValue]:
    """Return what one recorded change did, field by field, in the page's order."""
    order = list(FIELD_LABELS)

    def position(item: tuple[str, Any]) -> int:
        return order.index(item[0]) if item[0] in order else len(order)

    return [
        ChangedValue(
            FIELD_LABELS.get(field) or OTHER_LABELS.get(field, field),
            describe_value(field, values["old"]),
            describe_value(field, values["new"]),
        )
        for field, values in sorted(change.changes.items(), key=position)
    ]
