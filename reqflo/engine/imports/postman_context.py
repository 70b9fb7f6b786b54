"""Shared state of one Postman import, and `{{variable}}` translation (see postman.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reqflo.engine.imports.builder import JourneyBuilder
from reqflo.engine.imports.report import ImportResult
from reqflo.engine.imports.source import reference_name

_VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_DYNAMIC = {
    "$guid": "$uuid",
    "$randomUUID": "$uuid",
    "$timestamp": "$timestamp",
    "$isoTimestamp": "$now",
    "$randomInt": "$random_int",
}


@dataclass
class Context:
    result: ImportResult
    collection_vars: dict[str, Any]
    env_vars: dict[str, Any]
    secret_vars: set[str]
    base_var: str | None = None
    base_origin: str | None = None
    literal_secrets: dict[str, str] = field(default_factory=dict)
    # Every credential value met (for masking the report), whether or not it got a secret name.
    credential_values: set[str] = field(default_factory=set)

    def secret_for_literal(self, value: str, hint: str, *, location: str, why: str) -> str:
        """Return the secret name standing in for a literal credential (the value stays here)."""
        if value not in self.literal_secrets:
            base, name, number = reference_name(hint), reference_name(hint), 2
            while name in self.literal_secrets.values():
                name = f"{base}_{number}"
                number += 1
            self.literal_secrets[value] = name
        name = self.literal_secrets[value]
        self.result.add_secret(name, location=location, reason=why)
        return name


@dataclass
class JourneyState:
    builder: JourneyBuilder
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)


def translate(text: str, where: str, journey: JourneyState, ctx: Context, depth: int = 0) -> str:
    """Translate Postman `{{name}}` variables in `text` into Reqflo references."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        return "{{ " + _reference(match.group(1), where, journey, ctx, depth) + " }}"

    return _VARIABLE.sub(replace, text)


def _reference(raw: str, where: str, journey: JourneyState, ctx: Context, depth: int) -> str:
    builder = journey.builder
    if raw.startswith("$"):
        if raw in _DYNAMIC:
            return _DYNAMIC[raw]
        name = reference_name(raw)
        builder.add_input(name, description=f"was Postman's dynamic variable {{{{{raw}}}}}")
        ctx.result.add(
            where,
            f"dynamic variable {{{{{raw}}}}} has no equivalent; it became input '{name}'",
            "changed",
        )
        return f"inputs.{name}"
    name = reference_name(raw)
    if raw in journey.outputs:
        step, output = journey.outputs[raw]
        return f"steps.{step}.outputs.{output}"
    if raw == ctx.base_var:
        return "env.base_url"
    if raw in ctx.secret_vars:
        ctx.result.add_secret(name, location=where, reason=f"was variable {{{{{raw}}}}}")
        return f"secrets.{name}"
    if raw in ctx.env_vars:
        return f"env.{name}"
    if raw in ctx.collection_vars and depth < 8:
        if name not in builder.variables:
            value = ctx.collection_vars[raw]
            builder.variables[name] = (
                translate(value, where, journey, ctx, depth + 1)
                if isinstance(value, str)
                else value
            )
        return f"variables.{name}"
    builder.add_input(name, description=f"was Postman variable {{{{{raw}}}}}")
    return f"inputs.{name}"


def entries(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def plain_text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return str(value).strip() if isinstance(value, str) else ""
