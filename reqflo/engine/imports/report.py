"""What an import produced and what it could not map: the shapes every converter returns.

A converter never drops anything silently: each part of the source it could not translate
exactly becomes a `ReportItem` naming where it is in the source and why. Secret *names* travel
with the result so the user can store their values; a secret value never does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reqflo.engine.imports.credentials import mask, spans, strip_userinfo
from reqflo.engine.redaction import Redactor

Severity = Literal["skipped", "changed", "note"]


class SourceError(ValueError):
    """The source cannot be imported at all (too large, not a collection, unsafe); `message`
    says what and where, for the CLI and the page to show as it is."""

    def __init__(self, message: str) -> None:
        message = mask(message)  # a refusal may quote the source: never a credential in it
        super().__init__(message)
        self.message = message


# The shortest known credential value the report masks (as reqflo/engine/redaction/'s
# MIN_NUMBER_LEAF: a shorter text occurs by chance in ordinary words).
MIN_MASKED_CHARS = 4
# An environment's name column (reqflo/journeys/models.py: Environment.name max_length=60).
MAX_ENVIRONMENT_NAME_CHARS = 60


@dataclass(frozen=True, slots=True)
class ReportItem:
    """One part of the source that did not map exactly.

    `location` is a path in the source in the user's words (`item "Login" › event test ›
    line 4`); `severity` is `skipped` (left out), `changed` (imported differently than written)
    or `note` (imported; something for the user to do, such as storing a secret).
    """

    location: str
    message: str
    severity: Severity = "skipped"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message, "severity": self.severity}


@dataclass(frozen=True, slots=True)
class SecretName:
    """A secret a journey references by name; `location` is where the source used it."""

    name: str
    location: str
    reason: str


@dataclass
class ImportedJourney:
    """A produced journey document (`{"journey": {...}}`, valid for the engine's parser)."""

    document: dict[str, Any]
    source: str

    @property
    def slug(self) -> str:
        return str(self.document["journey"]["slug"])

    @property
    def name(self) -> str:
        return str(self.document["journey"]["name"])

    @property
    def step_count(self) -> int:
        return len(self.document["journey"]["steps"])


@dataclass
class ImportResult:
    """Everything one import produced.

    `environments` maps an environment name to its values (`base_url` and other non-secret
    values, for `reqflo.yaml` or the environments page); `secrets` lists the names the journeys
    reference; `items` is the report of what did not map, in source order.
    """

    kind: str
    journeys: list[ImportedJourney] = field(default_factory=list)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: list[SecretName] = field(default_factory=list)
    items: list[ReportItem] = field(default_factory=list)
    # Credential values met while sealing (value → secret name) and other values to mask in the
    # report (a URL's user:password). In memory only: never rendered, never stored.
    credential_values: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    masked: set[str] = field(default_factory=set, repr=False, compare=False)

    def add(self, location: str, message: str, severity: Severity = "skipped") -> None:
        """Add a report line; anything in it shaped like a credential is masked."""
        self.items.append(ReportItem(mask(location), mask(message), severity))

    def finish(self) -> None:
        """Seal the environments and mask every credential met in the report: the last step of
        every converter. An environment value shaped like a credential is left out (reported):
        an environment is stored in clear; a URL keeps its host, never `user:password@`. A
        name longer than an environment's name column (MAX_ENVIRONMENT_NAME_CHARS) is cut."""
        self._cut_environment_names()
        for env_name, values in self.environments.items():
            for key, value in list(values.items()):
                if not isinstance(value, str):
                    continue
                where = f'environment "{env_name}" › {key}'
                url, userinfo = strip_userinfo(value) if "://" in value else (value, None)
                if userinfo is not None:
                    self.masked.add(userinfo)
                    values[key] = value = url
                    self.add(where, "the user and password in the URL were left out")
                if spans(value):
                    self.masked.add(value)
                    del values[key]
                    self.add(
                        where,
                        "left out: the value looks like a credential; store it in the secret "
                        "store and reference it as {{ secrets.NAME }}",
                    )
        self.redact([*self.credential_values, *self.masked])

    def _cut_environment_names(self) -> None:
        renamed: dict[str, dict[str, Any]] = {}
        for name, values in self.environments.items():
            cut, number = name, 2
            if len(name) > MAX_ENVIRONMENT_NAME_CHARS:
                cut = name[:MAX_ENVIRONMENT_NAME_CHARS]
                while cut in renamed or cut in self.environments:
                    suffix = f"-{number}"
                    cut, number = (
                        name[: MAX_ENVIRONMENT_NAME_CHARS - len(suffix)] + suffix,
                        number + 1,
                    )
                self.add(
                    f'environment "{name}"',
                    f"the name was {len(name)} characters; cut to "
                    f'{MAX_ENVIRONMENT_NAME_CHARS}: "{cut}"',
                    "changed",
                )
            renamed[cut] = values
        self.environments = renamed

    def add_secret(self, name: str, *, location: str, reason: str) -> None:
        if all(secret.name != name for secret in self.secrets):
            self.secrets.append(SecretName(name, location, reason))

    def redact(self, values: Iterable[str]) -> None:
        """Mask known credential values (and their encodings) wherever the report quotes the
        source: a script line or an option echoed back must not carry one. A value shorter than
        MIN_MASKED_CHARS is left alone: masking `u` would mask every "u" of the report, and
        nothing that short is taken for a credential by its shape (`credentials.py`)."""
        redactor = Redactor(value for value in values if len(value) >= MIN_MASKED_CHARS)
        self.items = [
            replace(
                item, location=redactor.redact(item.location), message=redactor.redact(item.message)
            )
            for item in self.items
        ]

    @property
    def skipped(self) -> list[ReportItem]:
        return [item for item in self.items if item.severity == "skipped"]

    def summary(self) -> str:
        """Return one line: `2 journeys (7 steps), 1 environment, 2 secrets; 3 items did not
        map`."""
        steps = sum(journey.step_count for journey in self.journeys)
        parts = [
            _count(len(self.journeys), "journey") + f" ({_count(steps, 'step')})",
            _count(len(self.environments), "environment"),
            _count(len(self.secrets), "secret"),
        ]
        skipped = len(self.skipped)
        tail = f"{_count(skipped, 'item')} did not map" if skipped else "everything mapped"
        return f"{', '.join(parts)}; {tail}"

    def to_text(self) -> str:
        """Render the report as plain text: created journeys, secrets to store, then items."""
        lines = [f"Imported from {self.kind}: {self.summary()}"]
        for journey in self.journeys:
            lines.append(f"  journey '{journey.slug}': {journey.name} ({journey.step_count} steps)")
        if self.secrets:
            lines.append("Secrets to store (values were not imported):")
            lines.extend(f"  {secret.name}: {secret.reason}" for secret in self.secrets)
        for title, severity in (
            ("Did not map", "skipped"),
            ("Imported differently", "changed"),
            ("Notes", "note"),
        ):
            chosen = [item for item in self.items if item.severity == severity]
            if chosen:
                lines.append(f"{title}:")
                lines.extend(f"  {item}" for item in chosen)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "journeys": [
                {"slug": j.slug, "name": j.name, "steps": j.step_count} for j in self.journeys
            ],
            "environments": sorted(self.environments),
            "secrets": [s.name for s in self.secrets],
            "items": [item.to_dict() for item in self.items],
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
