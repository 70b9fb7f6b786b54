"""Turn command-line values into run inputs and secrets: `--set`, data rows, `REQFLO_SECRET_*`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reqflo.cli.data import LABEL_COLUMNS
from reqflo.cli.errors import CliError
from reqflo.cli.streams import SECRET_PREFIX
from reqflo.engine import Definition
from reqflo.engine.errors import suggest


def secret_env_name(name: str) -> str:
    """Return the variable holding secret `name`: `pay-key` → `REQFLO_SECRET_PAY_KEY`."""
    return SECRET_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secret_names(definition: Definition) -> list[str]:
    """Return the secret names a journey references, in first-use order."""
    names: dict[str, None] = {}
    for site in definition.references:
        if site.ref.kind == "secret":
            names[site.ref.name] = None
    return list(names)


def secrets_from_environ(names: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Return the value of each named secret that is set in the environment."""
    found: dict[str, str] = {}
    for name in names:
        value = environ.get(secret_env_name(name))
        if value is not None:
            found[name] = value
    return found


def parse_sets(pairs: Sequence[str], definition: Definition) -> dict[str, str]:
    """Parse repeated `--set KEY=VALUE` into a mapping; a key must be a declared input."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--set expects KEY=VALUE, got '{pair}'")
        _require_input(definition, key, f"--set {key}")
        values[key] = value
    return values


def check_case_keys(case: Mapping[str, Any], definition: Definition, where: str) -> None:
    """Refuse case values for inputs the journey does not declare (usually a typo)."""
    for key in case:
        _require_input(definition, str(key), where)


def row_inputs(values: Mapping[str, Any], definition: Definition) -> dict[str, Any]:
    """Return the row values that are journey inputs; the label column is not an input."""
    declared = {decl.name for decl in definition.inputs}
    return {key: value for key, value in values.items() if key in declared}


def unknown_columns(columns: Iterable[str], definition: Definition) -> list[str]:
    """Return the data columns that are neither inputs nor the label column, with hints."""
    declared = [decl.name for decl in definition.inputs]
    unknown = []
    for column in columns:
        if column in declared or column in LABEL_COLUMNS:
            continue
        unknown.append(f"'{column}'{suggest(column, declared)}")
    return unknown


def _require_input(definition: Definition, key: str, where: str) -> None:
    declared = [decl.name for decl in definition.inputs]
    if key not in declared:
        listing = ", ".join(declared) if declared else "none"
        raise CliError(
            f"{where}: journey '{definition.slug}' has no input '{key}'{suggest(key, declared)} "
            f"(inputs: {listing})"
        )
