"""Forms of the journeys pages (the editor's step fields are read by ``editor.state_from_post``)."""

from __future__ import annotations

from typing import Any

from django import forms

from reqflo.journeys.imports import KINDS, ImportChoices, unseal

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


class JourneyImportForm(forms.Form):
    """Import a Reqflo journey or from Postman, OpenAPI, curl or HAR.

    The source (and a Postman environment) comes from an upload, the text box, or the sealed
    copy the preview page carries (``sealed_text``, ``sealed_environment``): changing a choice
    after the preview keeps the source. A new upload or text replaces it.
    """

    kind = forms.ChoiceField(label="Import from", choices=KINDS, widget=forms.RadioSelect)
    file = forms.FileField(required=False, label="File")
    text = forms.CharField(
        required=False,
        label="…or paste it",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
    )
    url = forms.CharField(
        required=False,
        max_length=2000,
        label="OpenAPI: …or its URL",
        help_text="http:// or https://, fetched under the Cloud Runner's egress policy.",
    )
    environment_file = forms.FileField(required=False, label="Postman environment file (optional)")
    sealed_text = forms.CharField(required=False, widget=forms.HiddenInput)
    # The URL the sealed source was fetched from: a different URL is fetched again.
    sealed_url = forms.CharField(required=False, widget=forms.HiddenInput)
    sealed_environment = forms.CharField(required=False, widget=forms.HiddenInput)
    split = forms.ChoiceField(
        label="Postman: journeys",
        choices=[("folders", "One per top-level folder"), ("collection", "One for the collection")],
        initial="folders",
        required=False,
    )
    group = forms.ChoiceField(
        label="OpenAPI: journeys",
        choices=[("tags", "One per tag"), ("operations", "One with every operation")],
        initial="tags",
        required=False,
    )
    operations = forms.CharField(
        required=False,
        label="OpenAPI: only these operations, in this order",
        help_text="One per line: an operationId or 'GET /path'. Empty: all.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
    )
    name = forms.CharField(required=False, max_length=200, label="curl / HAR: journey name")
    include_sensitive = forms.BooleanField(
        required=False,
        label="curl / HAR: keep credential headers and cookies (as secret references)",
    )
    include_assets = forms.BooleanField(
        required=False, label="HAR: keep images, scripts, styles and fonts"
    )
    create_environments = forms.BooleanField(
        required=False, label="Create the imported environments (owners only)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        url = (data.get("url") or "").strip()
        data["url"] = url
        if url and not url.startswith(("http://", "https://")):
            self.add_error("url", "Give an http:// or https:// URL.")
        fresh_url = bool(url) and url != data.get("sealed_url") and not data.get("file")
        if fresh_url and not (data.get("text") or "").strip():
            data["source"] = ""  # the view fetches it
        else:
            data["source"] = self._source(data, "file", "text", "sealed_text")
            if not (data["source"] or "").strip() and not self.errors:
                self.add_error("file", "Choose a file, paste what to import or give its URL.")
        data["fetch"] = fresh_url and not data["source"]
        data["environment"] = self._source(data, "environment_file", None, "sealed_environment")
        return data

    def _source(
        self, data: dict[str, Any], upload_key: str, text_key: str | None, sealed_key: str
    ) -> str:
        """Return the newest source given: an upload, else pasted text, else the sealed copy."""
        upload = data.get(upload_key)
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                self.add_error(upload_key, "The file is larger than 2 MB (the CLI takes 10 MiB).")
                return ""
            try:
                return str(upload.read().decode("utf-8-sig"))
            except UnicodeDecodeError:
                self.add_error(upload_key, "The file is not UTF-8 text.")
                return ""
        if text_key and (data.get(text_key) or "").strip():
            return str(data[text_key])
        sealed = data.get(sealed_key) or ""
        if not sealed:
            return ""
        text = unseal(sealed)
        if text is None:
            self.add_error(upload_key, "The kept source has expired; choose the file again.")
            return ""
        return text

    def choices(self) -> ImportChoices:
        data = self.cleaned_data
        operations = tuple(
            line.strip() for line in (data.get("operations") or "").splitlines() if line.strip()
        )
        return ImportChoices(
            kind=data["kind"],
            text=data["source"],
            environment=data.get("environment") or "",
            split=data.get("split") or "folders",
            group=data.get("group") or "tags",
            operations=operations,
            name=(data.get("name") or "").strip(),
            include_sensitive=bool(data.get("include_sensitive")),
            include_assets=bool(data.get("include_assets")),
            source_url=data.get("url") or data.get("sealed_url") or "",
        )
