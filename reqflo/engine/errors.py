"""Problems found in a journey definition, reported as values a user can act on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem at one place of a definition; `str(issue)` is `"path: message"`."""

    severity: Severity
    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        return cls(data["severity"], data["code"], data["path"], data["message"])


class DefinitionError(ValueError):
    """Raise with every issue of a document at once, never only the first."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest choice, or "" when nothing is close."""
    import difflib  # only for a message

    matches = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def errors_only(issues: Iterable[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.severity == "error"]


def quoted(text: str) -> str:
    """Return text in double quotes as JSON writes it, for a message: `"a\\"b"`.

    Only `"`, `\\` and control characters are escaped (JSON's escapes, which the redactor
    decodes); every other character stays itself. Messages never use `repr()`, whose quotes and
    `\\x`/`\\U` escapes depend on the value, so a value that may hold a secret is spelled one
    known way (issue 13).
    """
    return json.dumps(text, ensure_ascii=False)
