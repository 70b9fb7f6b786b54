"""The Run panel's form: environment, case, input overrides and an optional data file.

One field per input the version declares (``input_<name>``): prefilled from the chosen case,
else the default; required inputs are marked; a secret input is a password field that is
never prefilled or echoed back. A blank field overrides nothing, so the case or default
applies (as ``reqflo run --set`` does).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from reqflo.core.forms import pick
from reqflo.engine.data_rows import DataFileError, DataRow, read_rows
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion
from reqflo.runners.config import runner_config_for
from reqflo.runners.labels import default_route
from reqflo.runners.models import RunnerChoice

INPUT_PREFIX = "input_"


class RunForm(forms.Form):
    version = forms.TypedChoiceField(coerce=int, label="Version")
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the workspace's environments."},
    )
    case = forms.ModelChoiceField(
        queryset=Case.objects.none(),
        required=False,
        empty_label="No case (defaults only)",
        error_messages={"invalid_choice": "Choose one of the journey's cases."},
    )
    runner = forms.ChoiceField(
        required=False,
        label="Runner",
        choices=[("", "Default"), *RunnerChoice.choices],
        help_text="Self-hosted runners run it on your own network.",
    )
    runner_labels = forms.CharField(
        required=False,
        label="Runner labels",
        help_text="Only self-hosted runners with all of these, comma-separated (e.g. vpn,eu).",
    )
    data_file = forms.FileField(
        required=False,
        label="Data file (optional)",
        help_text="A .csv or .json file: one run per row, as a batch.",
    )

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        version: JourneyVersion,
        versions: list[int],
        declared: list[dict[str, Any]],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        journey = version.journey
        self.declared = declared
        version_field = self.fields["version"]
        assert isinstance(version_field, forms.ChoiceField)
        version_field.choices = [(n, f"v{n}") for n in versions]
        self.environments = Environment.objects.filter(
            workspace_id=journey.workspace_id, archived=False
        ).order_by("name")
        self.cases = Case.objects.filter(journey=journey, archived=False).order_by("name")
        for name, queryset in (("environment", self.environments), ("case", self.cases)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset
        config = runner_config_for(workspace_id=journey.workspace_id)
        runner_field = self.fields["runner"]
        assert isinstance(runner_field, forms.ChoiceField)
        default = default_route(config=config, journey=journey)
        whose = "Journey default" if journey.default_runner else "Workspace default"
        runner_field.choices = [
            ("", f"{whose}: {default.describe()}"),
            *RunnerChoice.choices,
        ]
        case = self._chosen_case()
        for decl in declared:
            name = decl["name"]
            label = f"{name} (required)" if decl.get("required") else name
            hint = decl.get("type") or "string"
            if decl.get("secret"):
                widget: forms.Widget = forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "off"}
                )
                help_text = f"{hint}, secret: never shown or stored in clear"
                prefill = None
            else:
                widget = forms.TextInput()
                help_text = hint
                prefill = _text(
                    case.values[name]
                    if case is not None and name in case.values
                    else decl.get("default")
                )
            self.fields[INPUT_PREFIX + name] = forms.CharField(
                required=False, label=label, help_text=help_text, widget=widget, initial=prefill
            )

    def _chosen_case(self) -> Case | None:
        raw = self.data.get("case") if self.is_bound else (self.initial or {}).get("case")
        case: Case | None = pick(self.cases, raw)
        return case

    def chosen(self) -> tuple[Environment | None, Case | None, dict[str, str]]:
        """Return the environment, case and typed inputs as far as they are valid now.

        Unbound, the environment is the one asked for in ``initial`` or else the first.
        """
        environments = self.environments
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
            return data.get("environment"), data.get("case"), self.overrides()
        wanted = (self.initial or {}).get("environment")
        environment = pick(environments, wanted) or environments.first()
        return environment, self._chosen_case(), {}

    def route(self) -> dict[str, Any]:
        """Return the runner choice as ``run_dispatch`` takes it (``runner``, ``runner_labels``)."""
        labels = str(self.cleaned_data.get("runner_labels") or "")
        return {
            "runner": self.cleaned_data.get("runner") or None,
            "runner_labels": [x for x in labels.split(",") if x.strip()],
        }

    def input_fields(self) -> list[forms.BoundField]:
        return [self[INPUT_PREFIX + decl["name"]] for decl in self.declared]

    def overrides(self) -> dict[str, str]:
        """Return the inputs typed in (blank ones override nothing)."""
        return {
            decl["name"]: self.cleaned_data[INPUT_PREFIX + decl["name"]]
            for decl in self.declared
            if self.cleaned_data.get(INPUT_PREFIX + decl["name"]) not in (None, "")
        }

    def data_rows(self) -> tuple[list[dict[str, Any]] | None, str]:
        """Return the uploaded data file's rows (None without one) and the file's name."""
        rows = self.cleaned_data.get("data_file") if self.is_bound else None
        upload = self.files.get("data_file") if self.is_bound else None
        name = getattr(upload, "name", "") or "the data file"
        return ([row.values for row in rows] if rows else None), name

    def clean_data_file(self) -> list[DataRow] | None:
        upload = self.cleaned_data.get("data_file")
        if upload is None:
            return None
        try:
            return read_rows(upload.name, upload.read())
        except DataFileError as exc:
            raise forms.ValidationError(str(exc)) from None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


class JourneyRunnerForm(forms.Form):
    """A journey's default runner (its Run panel): where its runs go when a dispatch does not
    say; the workspace's default when empty (``reqflo.runners.labels.journey_runner_set``)."""

    default_runner = forms.ChoiceField(
        label="This journey's default runner",
        required=False,
        choices=[("", "The workspace's default"), *RunnerChoice.choices],
    )
    default_runner_labels = forms.CharField(
        label="Its runner labels",
        required=False,
        max_length=1000,
        help_text="Comma-separated; only with self-hosted runners.",
    )

    @classmethod
    def of(cls, journey: Journey) -> JourneyRunnerForm:
        return cls(
            initial={
                "default_runner": journey.default_runner,
                "default_runner_labels": ",".join(journey.default_runner_labels),
            }
        )
