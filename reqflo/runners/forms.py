"""The Cloud Runner settings form: it reads the values; ``settings_services`` judges them."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from reqflo.runners.models import RetryPolicy, RunnerChoice, RunnerConfig
from reqflo.runners.settings_services import FIELD_LABELS


def _number(field: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=FIELD_LABELS[field],
        help_text=help_text,
        error_messages={
            "required": f"{FIELD_LABELS[field]} is required.",
            "invalid": f"{FIELD_LABELS[field]} must be a whole number.",
        },
    )


class RunnerSettingsForm(forms.Form):
    region = forms.CharField(
        label=FIELD_LABELS["region"],
        required=False,
        max_length=60,
        help_text="Runs go to the Celery queue reqflo.<region> (empty: the default queue).",
        widget=forms.TextInput(attrs={"list": "known-regions", "autocomplete": "off"}),
    )
    step_timeout_seconds = _number(
        "step_timeout_seconds", "Seconds; the most one step may take, whatever it asks for."
    )
    run_timeout_seconds = _number("run_timeout_seconds", "Seconds; the most a whole run may take.")
    concurrency_limit = _number(
        "concurrency_limit", "Runs of this workspace at once; more wait queued."
    )
    retry_policy = forms.ChoiceField(
        label=FIELD_LABELS["retry_policy"],
        choices=RetryPolicy.choices,
        help_text="What happens to a run whose worker was lost.",
    )
    max_attempts = _number("max_attempts", "Claims of one run before it ends in error.")
    step_max_retries = _number("step_max_retries", "The most retries a step may ask for.")
    step_max_retry_delay_seconds = _number(
        "step_max_retry_delay_seconds", "Seconds; the longest delay between a step's retries."
    )
    egress_allow_hosts = forms.CharField(
        label=FIELD_LABELS["egress_allow_hosts"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One per line: a host name (api.internal), an IP address (10.0.0.5) or a "
        "network (10.20.0.0/16). Cloud runs may call these even though they are private.",
    )
    default_runner = forms.ChoiceField(
        label=FIELD_LABELS["default_runner"],
        choices=RunnerChoice.choices,
        required=False,  # left out: unchanged
        help_text="Where runs go when the Run panel, reqflo run --cloud or the API do not say.",
    )
    default_runner_labels = forms.CharField(
        label=FIELD_LABELS["default_runner_labels"],
        required=False,
        help_text="With self-hosted runners by default: only runners with all of these "
        "labels, comma-separated (e.g. vpn,eu).",
    )

    @classmethod
    def for_config(cls, config: RunnerConfig) -> RunnerSettingsForm:
        initial: dict[str, Any] = {name: getattr(config, name) for name in FIELD_LABELS}
        initial["egress_allow_hosts"] = "\n".join(config.egress_allow_hosts)
        initial["default_runner_labels"] = ",".join(config.default_runner_labels)
        return cls(initial=initial)

    def changes(self) -> dict[str, Any]:
        """Return the cleaned values as ``runner_config_update`` takes them."""
        values = dict(self.cleaned_data)
        text = values["egress_allow_hosts"]
        values["egress_allow_hosts"] = [e for e in re.split(r"[\n,]", text) if e.strip()]
        if not values.get("default_runner"):
            values.pop("default_runner", None)
        labels = values["default_runner_labels"]
        values["default_runner_labels"] = [x for x in labels.split(",") if x.strip()]
        return values


class SelfHostedRunnerForm(forms.Form):
    """Register a self-hosted runner: ``selfhosted.runner_register`` judges the values."""

    name = forms.CharField(
        max_length=100,
        help_text="Where it runs, e.g. vpn-eu-1.",
        error_messages={"required": "Give the runner a name (where it runs, e.g. vpn-eu-1)."},
    )
    labels = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. vpn,eu: runs asking for labels go to runners with all "
        "of them.",
    )
    capacity = forms.IntegerField(
        initial=4,
        help_text="Runs at once, 1 to 256.",
        error_messages={
            "required": "Capacity is required.",
            "invalid": "Capacity must be a whole number of runs.",
        },
    )

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["labels"] = [x for x in data["labels"].split(",") if x.strip()]
        return data
