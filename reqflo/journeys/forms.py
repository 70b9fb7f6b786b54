"""Forms of the journeys pages (the editor's step fields are read by ``editor.state_from_post``)."""

from __future__ import annotations

from typing import Any

from django import forms

MAX_IMPORT_BYTES = 2_000_000


class JourneyCreateForm(forms.Form):
    """Start a journey: blank, from the demo sample, or from a YAML/JSON file or pasted text."""

    SOURCES = [
        ("blank", "Blank journey"),
        ("sample", "The demo-shop checkout sample"),
        ("import", "Import a YAML or JSON file"),
    ]
    source = forms.ChoiceField(choices=SOURCES, initial="blank", widget=forms.RadioSelect)
    name = forms.CharField(
        max_length=200, required=False, help_text="For a blank journey; imports keep their name."
    )
    file = forms.FileField(required=False, label="Journey file (.yaml, .yml or .json)")
    text = forms.CharField(
        required=False,
        label="…or paste YAML/JSON",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source = data.get("source")
        if source == "blank" and not (data.get("name") or "").strip():
            self.add_error("name", "Give the journey a name.")
        if source == "import":
            upload = data.get("file")
            if upload is not None:
                if upload.size > MAX_IMPORT_BYTES:
                    self.add_error("file", "The file is larger than 2 MB.")
                    return data
                try:
                    data["text"] = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    self.add_error("file", "The file is not UTF-8 text.")
            if not (data.get("text") or "").strip() and not self.errors:
                self.add_error("file", "Choose a file or paste the journey's YAML or JSON.")
        return data


def _values_text(values: dict[str, Any]) -> str:
    return "\n".join(f"{key}={value}" for key, value in values.items())


class KeyValueField(forms.CharField):
    """One ``name=value`` per line, read into a dict of strings."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"})

    def prepare_value(self, value: Any) -> Any:
        return _values_text(value) if isinstance(value, dict) else value

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        pairs: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, found, item = line.partition("=")
            if not found or not key.strip():
                raise forms.ValidationError(f"Line {number} should read name=value.")
            pairs[key.strip()] = item.strip()
        return pairs


class CaseForm(forms.Form):
    name = forms.CharField(max_length=120)
    values = KeyValueField(
        required=False, label="Input values", help_text="One input per line: name=value."
    )


class EnvironmentForm(forms.Form):
    name = forms.CharField(max_length=60)
    base_url = forms.CharField(
        max_length=500, label="Base URL", help_text="http:// or https://, read as env.base_url."
    )
    values = KeyValueField(
        required=False,
        label="Values",
        help_text="One per line: name=value, read as env.NAME. Secrets belong in Admin → Secrets.",
    )

    def clean_values(self) -> dict[str, str]:
        values: dict[str, str] = self.cleaned_data["values"]
        if "base_url" in values:
            raise forms.ValidationError("Set base_url in its own field above.")
        return values
