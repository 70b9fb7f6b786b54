"""Forms of the Admin → Secrets pages; value inputs are write-only password fields."""

from __future__ import annotations

from typing import Any

from django import forms

from reqflo.secrets.models import AuditKind
from reqflo.secrets.validation import MAX_VALUE_BYTES


class ValueInput(forms.PasswordInput):
    """A password input that never renders a value back and asks browsers not to store it.

    ``data-1p-ignore`` and ``data-lpignore`` keep 1Password and LastPass from offering to save
    the secret as a login password.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "off",
            "data-1p-ignore": "true",
            "data-lpignore": "true",
        }
        super().__init__(attrs={**base, **(attrs or {})}, render_value=False)


def value_field(label: str = "Value") -> forms.CharField:
    # Length is checked in bytes by the service; the form only stops absurd posts early.
    return forms.CharField(
        label=label,
        strip=False,
        required=False,
        max_length=MAX_VALUE_BYTES * 4,
        error_messages={"max_length": f"Value is over the limit of {MAX_VALUE_BYTES // 1024} KiB."},
        widget=ValueInput(),
    )


class SecretCreateForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Letters, digits, '_', '.' and '-'. Journeys use it as {{ secrets.NAME }}.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(max_length=500, required=False)
    value = value_field()


class SecretRotateForm(forms.Form):
    value = value_field("New value")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the environment form on the same page also has a "value" field.
        kwargs.setdefault("auto_id", "rotate-%s")
        super().__init__(*args, **kwargs)


class SecretDescribeForm(forms.Form):
    description = forms.CharField(max_length=500, required=False)


class EnvironmentValueForm(forms.Form):
    # Any text is accepted here; the service says when no such environment exists.
    environment = forms.CharField(max_length=200, required=False, widget=forms.Select())
    value = value_field()

    def __init__(self, *args: Any, environments: list[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "environment-%s")
        super().__init__(*args, **kwargs)
        widget = self.fields["environment"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "Choose…"), *((name, name) for name in environments or [])]


class EnvironmentClearForm(forms.Form):
    environment = forms.CharField(max_length=200)


class AuditFilterForm(forms.Form):
    secret = forms.ChoiceField(required=False, label="Secret")
    kind = forms.ChoiceField(
        required=False, label="Event", choices=[("", "Any event"), *AuditKind.choices]
    )
    actor = forms.CharField(required=False, label="Person")
    run_id = forms.CharField(required=False, label="Run")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, secret_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Names from the log itself, so deleted secrets stay searchable.
        field = self.fields["secret"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Any secret"), *((name, name) for name in secret_names or [])]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "“To” is before “From”.")
        return cleaned
