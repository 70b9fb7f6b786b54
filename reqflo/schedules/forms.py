"""The schedule and alert-channel forms: they read values; ``services`` judges them."""

from __future__ import annotations

from typing import Any

from django import forms

from reqflo.core.forms import pick
from reqflo.core.models import Workspace
from reqflo.engine.data_rows import DataFileError, read_rows
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.schedules.models import (
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    AlertChannel,
    ChannelKind,
    Schedule,
)
from reqflo.schedules.services import DataFile, ScheduleFields
from reqflo.schedules.timing import zone_names


def _zones() -> list[tuple[str, str]]:
    return [(name, name) for name in zone_names()]


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Checkout every 5 minutes”.")
    journey = forms.ModelChoiceField(queryset=Journey.objects.none(), empty_label=None)
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
        error_messages={"invalid_choice": "Choose one of the chosen journey's cases, or none."},
    )
    data_file = forms.FileField(
        required=False,
        label="Data file",
        help_text="Optional: a .csv or .json file of inputs, one run per row; each time the "
        "schedule runs, it runs every row as a batch.",
    )
    data_remove = forms.BooleanField(
        required=False, label="Remove the data file (run once each time, without rows)"
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

    def __init__(
        self,
        *args: Any,
        workspace: Workspace,
        refresh_url: str = "",
        schedule: Schedule | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.schedule = schedule
        fields: Any = self.fields
        journeys = Journey.objects.filter(workspace=workspace, archived=False).order_by("name")
        fields["journey"].queryset = journeys
        fields["environment"].queryset = Environment.objects.filter(
            workspace=workspace, archived=False
        ).order_by("name")
        # Only the chosen journey's cases (the first journey's until one is chosen). A journey
        # change asks ``refresh_url`` for the form of that journey and swaps in its case list
        # only (htmx; what else was typed stays as it is); a case of another journey posted
        # anyway is refused as an invalid choice.
        chosen = self.data.get("journey") if self.is_bound else (self.initial or {}).get("journey")
        journey = pick(journeys, chosen) or (None if self.is_bound else journeys.first())
        if not self.is_bound and journey is not None:
            self.initial["journey"] = journey.pk
        fields["case"].queryset = (
            Case.objects.filter(journey=journey, archived=False).order_by("name")
            if journey is not None
            else Case.objects.none()
        )
        if refresh_url:
            fields["journey"].widget.attrs.update(
                {
                    "hx-get": refresh_url,
                    "hx-trigger": "change",
                    "hx-target": "#id_case",
                    "hx-select": "#id_case",
                    "hx-swap": "outerHTML",
                }
            )
        fields["channels"].queryset = AlertChannel.objects.filter(workspace=workspace)
        if schedule is not None and schedule.timezone not in zone_names():
            # Saved before the list was narrowed (an alias such as US/Eastern): still offered,
            # so the schedule can be edited without changing its zone.
            fields["timezone"].choices = [
                (schedule.timezone, f"{schedule.timezone} (an older name)"),
                *_zones(),
            ]
        if schedule is not None and schedule.data_rows:
            rows = len(schedule.data_rows)
            fields["data_file"].help_text = (
                f"Now {schedule.data_name}, {rows} row{'s' if rows != 1 else ''}: upload another "
                "file to replace it, or tick “Remove” below."
            )
        else:
            del fields["data_remove"]

    @classmethod
    def for_schedule(
        cls, schedule: Schedule, *, refresh_url: str = "", changes: dict[str, Any] | None = None
    ) -> ScheduleForm:
        """The form of ``schedule`` as saved, with ``changes`` (a journey change's redraw)."""
        return cls(
            workspace=schedule.workspace,
            refresh_url=refresh_url,
            schedule=schedule,
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
                **(changes or {}),
            },
        )

    def clean_data_file(self) -> DataFile | None:
        upload = self.cleaned_data.get("data_file")
        if upload is None:
            return None
        try:
            rows = read_rows(upload.name, upload.read())
            return DataFile(upload.name, [row.values for row in rows])
        except DataFileError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("timing") == "cron":
            if not data.get("cron"):
                self.add_error("cron", "Give a cron expression, or choose an interval.")
        elif data.get("interval_seconds") is None and "interval_seconds" not in self.errors:
            self.add_error("interval_seconds", "Give an interval in seconds, or choose cron.")
        if data.get("data_file") and data.get("data_remove"):
            self.add_error("data_remove", "Upload a new data file or remove it, not both.")
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
            data_file=data.get("data_file"),
            keep_data_file=not data.get("data_file") and not data.get("data_remove"),
        )


def refresh_initial(query: Any) -> dict[str, Any]:
    """The values in a query (a journey change, a link with ``?journey=``) as a form's initial."""
    initial: dict[str, Any] = {
        name: query.get(name)
        for name in ScheduleForm.base_fields
        if name not in ("channels", "data_file") and name in query
    }
    if "journey" in query:
        initial["channels"] = query.getlist("channels")
        initial["case"] = None  # a case belongs to one journey: choose again
    return initial


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
