"""Check names and values before they reach the store; messages name what is wrong and where."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from reqflo.engine.redaction import MIN_SPELLED_CHARS
from reqflo.secrets.models import NAME_MAX_LENGTH

MAX_VALUE_BYTES = 64 * 1024
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")


def clean_name(raw: str | None, *, field: str = "name", what: str = "Name") -> str:
    """Return a valid secret or environment name, or raise ValidationError keyed by ``field``."""
    name = (raw or "").strip()
    if not name:
        raise ValidationError({field: f"{what} is required."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {field: f"{what} is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}."}
        )
    if not _NAME_RE.fullmatch(name):
        bad = sorted({char for char in name if not _NAME_RE.fullmatch(char)})
        shown = ", ".join("a space" if char == " " else repr(char) for char in bad)
        raise ValidationError(
            {
                field: f"{what} '{name}' contains {shown}; use only letters, digits, "
                "'_', '.' and '-'."
            }
        )
    return name


def clean_value(raw: str | None, *, field: str = "value") -> str:
    """Return the value unchanged (whitespace may matter), or raise ValidationError.

    The message never includes the value, only its size.
    """
    value = raw or ""
    if value == "":
        raise ValidationError({field: "Value is required."})
    if len(value) < MIN_SPELLED_CHARS:
        # Masked only where it stands alone (engine.redact): too short to be found safely in
        # its encodings, and masking every such letter would make logs unreadable.
        raise ValidationError(
            {
                field: f"Value is {len(value)} character{'s' if len(value) > 1 else ''}; a "
                f"secret needs at least {MIN_SPELLED_CHARS}. A shorter one could not be masked "
                "in its encodings (see docs/secrets.md)."
            }
        )
    size = len(value.encode())
    if size > MAX_VALUE_BYTES:
        raise ValidationError(
            {field: f"Value is {size / 1024:.1f} KiB; the limit is {MAX_VALUE_BYTES // 1024} KiB."}
        )
    return value


def clean_environment_name(raw: str | None) -> str:
    """Return an environment name as environments store it (trimmed, non-empty)."""
    name = (raw or "").strip()
    if not name:
        raise ValidationError({"environment": "Choose an environment."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"environment": f"Environment name is longer than {NAME_MAX_LENGTH} characters."}
        )
    return name
