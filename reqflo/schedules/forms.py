"""The schedule and alert-channel forms: they read values; ``services`` judges them."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms

from reqflo.core.models import Workspace
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.schedules.models import (
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    AlertChannel,
    ChannelKind,
    Schedule,
)
from reqflo.schedules.services import ScheduleFields


@cache
def _zones() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"UTC"})
    return [("UTC", "UTC"), *((name, name) for name in names)]


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Checkout every 5 minutes”.")
    journey = forms.ModelChoiceField(queryset=Journey.objects.none())
    version = forms.IntegerField(
        required=False,
        min_value=1,
        label="Version",
        help_text="A version number to pin; empty runs the journey's latest version each time.",
    )
    environment = forms.ModelChoiceField(queryset=Environment.objects.none())
    case = forms.ModelChoiceField(
        queryset=Case.objects.none(),
        required=False,
        empty_label="No case (the inputs' defaults)",
        help_text="A case of the chosen journey.",
    )
    timing = forms.ChoiceField(
        choices=[("interval", "At an interval"), ("cron", "On a cron expression")],
        widget=forms.RadioSelect,
        initial="interval",
        label="Runs",
    )
    interval_seconds = forms.IntegerField(
        required=False,
        min_value=MIN_INTERVAL_SECONDS,
        max_value=MAX_INTERVAL_SECONDS,
        label="Interval (seconds)",
        help_text=f"At least {MIN_INTERVAL_SECONDS}: 300 is every 5 minutes.",
        error_messages={
            "min_value": f"The interval is at least {MIN_INTERVAL_SECONDS} seconds.",
            "max_value": "The interval is at most 31 days (2678400 seconds).",
        },
    )
    cron = forms.CharField(
        required=False,
        max_length=120,
        label="Cron expression",
        help_text="Five fields, minute first: “*/15 8-18 * * 1-5” is every 15 minutes on weekdays.",
    )
    timezone = forms.ChoiceField(
        choices=_zones, initial="UTC", help_text="The cron expression is read in this zone."
    )
    failure_threshold = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=2,
        label="Alert after",
        help_text="Failed runs in a row before the alert (one alert per change, and one on "
        "recovery).",
    )
    channels = forms.ModelMultipleChoiceField(
        queryset=AlertChannel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Alert channels",
        help_text="Owners add channels (email, webhooks) on the alert channels page.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        fields: Any = self.fields
        fields["journey"].queryset = Journey.objects.filter(
            workspace=workspace, archived=False
        ).order_by("name")
        fields["environment"].queryset = Environment.objects.filter(
            workspace=workspace, archived=False
        ).order_by("name")
        fields["case"].queryset = (
            Case.objects.filter(journey__workspace=workspace, archived=False)
            .select_related("journey")
            .order_by("journey__name", "name")
        )
        fields["case"].label_from_instance = lambda case: f"{case.journey.name} · {case.name}"
        fields["channels"].queryset = AlertChannel.objects.filter(workspace=workspace)

    @classmethod
    def for_schedule(cls, schedule: Schedule) -> ScheduleForm:
        return cls(
            workspace=schedule.workspace,
            initial={
                "name": schedule.name,
                "journey": schedule.journey_id,
                "version": schedule.version.number if schedule.version else None,
                "environment": schedule.environment_id,
                "case": schedule.case_id,
                "timing": "cron" if schedule.cron else "interval",
                "interval_seconds": schedule.interval_seconds,
                "cron": schedule.cron,
                "timezone": schedule.timezone,
                "failure_threshold": schedule.failure_threshold,
                "channels": list(schedule.channels.values_list("pk", flat=True)),
            },
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("timing") == "cron":
            if not data.get("cron"):
                self.add_error("cron", "Give a cron expression, or choose an interval.")
        elif data.get("interval_seconds") is None and "interval_seconds" not in self.errors:
            self.add_error("interval_seconds", "Give an interval in seconds, or choose cron.")
        journey, number = data.get("journey"), data.get("version")
        if journey is not None and number is not None:
            version = JourneyVersion.objects.filter(journey=journey, number=number).first()
            if version is None:
                self.add_error("version", f"{journey.name} has no version {number}.")
            data["version_row"] = version
        return data

    def fields_value(self) -> ScheduleFields:
        data = self.cleaned_data
        cron = data["timing"] == "cron"
        return ScheduleFields(
            name=data["name"],
            journey=data["journey"],
            environment=data["environment"],
            version=data.get("version_row"),
            case=data.get("case"),
            interval_seconds=None if cron else data["interval_seconds"],
            cron=data["cron"] if cron else "",
            timezone=data["timezone"],
            failure_threshold=data["failure_threshold"],
            channels=list(data["channels"]),
        )


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “On-call email” or “#alerts”.")
    kind = forms.ChoiceField(choices=ChannelKind.choices, initial=ChannelKind.WEBHOOK)
    target = forms.CharField(
        max_length=2000,
        label="Addresses or URL",
        help_text="Email: addresses, comma-separated. Webhook: the URL to POST to (a Slack "
        "incoming-webhook URL works); it must pass the workspace's egress policy.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
