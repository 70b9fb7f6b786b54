"""The run history's filter form: every filter a GET parameter, so a filtered page is a URL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.journeys.models import Environment, Journey
from reqflo.runs.history import RunFilters
from reqflo.runs.models import RunnerKind, RunStatus, Trigger

_ANY = [("", "Any")]


class RunFilterForm(forms.Form):
    """Filters of the history; choices are the workspace's own journeys, environments, people."""

    journey = forms.TypedChoiceField(required=False, coerce=UUID, empty_value=None)
    status = forms.ChoiceField(required=False, choices=_ANY + RunStatus.choices)
    environment = forms.TypedChoiceField(required=False, coerce=UUID, empty_value=None)
    runner_kind = forms.ChoiceField(
        required=False, choices=_ANY + RunnerKind.choices, label="Runner"
    )
    trigger = forms.ChoiceField(required=False, choices=_ANY + Trigger.choices)
    who = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tag = forms.CharField(required=False, max_length=100)
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )
    repository = forms.CharField(
        required=False, max_length=300, label="CI repository", help_text="owner/name"
    )
    ref = forms.CharField(required=False, max_length=300, label="CI branch or ref")
    commit = forms.CharField(required=False, max_length=64, label="CI commit")

    def __init__(self, data: Any, *, workspace: Workspace) -> None:
        super().__init__(data)
        journeys = Journey.objects.filter(workspace=workspace).order_by("name")
        self._choices("journey", [(str(j.pk), j.name) for j in journeys])
        environments = Environment.objects.filter(workspace=workspace).order_by("name")
        self._choices("environment", [(str(e.pk), e.name) for e in environments])
        people = User.objects.filter(memberships__workspace=workspace).order_by("email")
        self._choices("who", [(u.pk, u.email or u.get_username()) for u in people])

    def _choices(self, name: str, choices: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _ANY + choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> RunFilters:
        """Return the valid filters; a field with an error filters nothing (and says why)."""
        data = self.cleaned_data if self.is_bound else {}
        bad = set(self.errors)

        def get(name: str) -> Any:
            return None if name in bad else data.get(name)

        return RunFilters(
            journey=get("journey"),
            status=get("status") or "",
            environment=get("environment"),
            runner_kind=get("runner_kind") or "",
            trigger=get("trigger") or "",
            triggered_by=get("who"),
            tag=(get("tag") or "").strip(),
            since=get("since"),
            until=get("until"),
            repository=(get("repository") or "").strip(),
            ref=(get("ref") or "").strip(),
            commit=(get("commit") or "").strip(),
        )
