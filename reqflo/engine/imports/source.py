"""Read an import source safely: size, nesting and YAML-alias limits before any converter runs.

Imported files come from anywhere (a colleague's export, a URL). Each limit turns a hostile or
broken file into one clear `SourceError` instead of a frozen worker or a traceback.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reqflo.engine.definition import expanded_size_exceeds, parse_document
from reqflo.engine.errors import DefinitionError
from reqflo.engine.imports.credentials import looks_like_credential_value
from reqflo.engine.imports.report import SourceError

MAX_SOURCE_BYTES = 10 * 1024 * 1024
# A real OpenAPI document of a large API holds a few hundred thousand values; a YAML alias bomb
# expands to billions.
MAX_SOURCE_VALUES = 2_000_000
MAX_NESTING = 64


def decode(data: bytes | str, *, what: str) -> str:
    """Return the source as text, refusing one above MAX_SOURCE_BYTES or not in UTF-8."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_SOURCE_BYTES:
        raise SourceError(
            f"{what} is {size / 1_048_576:.1f} MiB; the import limit is "
            f"{MAX_SOURCE_BYTES // 1_048_576} MiB"
        )
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{what} is not UTF-8 text (byte {exc.start})") from None


def load_json(data: bytes | str, *, what: str) -> Any:
    """Parse a JSON source (Postman, HAR) within the limits."""
    text = decode(data, what=what)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{what} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise SourceError(f"{what} is nested too deeply to import") from None
    _check_shape(value, what)
    return value


def load_yaml_or_json(data: bytes | str, *, what: str) -> Any:
    """Parse a YAML or JSON source (OpenAPI) with the engine's safe loader, within the limits."""
    text = decode(data, what=what)
    try:
        value = parse_document(text, max_chars=MAX_SOURCE_BYTES)
    except DefinitionError as exc:
        raise SourceError(f"{what}: {exc.issues[0].message}") from None
    except RecursionError:
        raise SourceError(f"{what} is nested too deeply to import") from None
    _check_shape(value, what)
    return value


def _check_shape(value: Any, what: str) -> None:
    if expanded_size_exceeds(value, MAX_SOURCE_VALUES):
        raise SourceError(
            f"{what} expands to more than {MAX_SOURCE_VALUES} values (a YAML alias bomb?); "
            "refusing to import it"
        )
    if _depth_exceeds(value, MAX_NESTING):
        raise SourceError(f"{what} is nested more than {MAX_NESTING} levels deep; refusing it")


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


# Deliberately broad: a name taken for a secret by mistake costs the user one stored value; a
# credential taken for a plain value would be written into a journey.
_CREDENTIAL_NAME = re.compile(
    r"pass(word|wd|phrase)?|pwd|(^|[-_ ])pw($|[-_ ])|secret|token|api[-_ ]?key|apikey|auth"
    r"|credential|private|session|cookie|bearer|signature|access[-_ ]?key|key$|jwt|otp"
    r"|(^|[-_ ])sig($|[-_ ])",
    re.IGNORECASE,
)


def looks_like_credential(name: str, value: Any = None) -> bool:
    """Return whether a variable's name or value suggests a credential: the name (above), or
    the value's shape (`credentials.spans`: token formats, `user:password@`, random words)."""
    return bool(_CREDENTIAL_NAME.search(name)) or looks_like_credential_value(value)


def reference_name(raw: str) -> str:
    """Return `raw` as a Reqflo input/variable/env/secret name: `user.id` → `user_id`."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", raw.strip()).strip("_") or "value"
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def step_id(raw: str) -> str:
    """Return `raw` as a step id (`a-z`, `0-9`, `_`, `-`): `Get Pets!` → `get-pets`."""
    return re.sub(r"[^a-z0-9_]+", "-", raw.lower()).strip("-")[:60].strip("-") or "step"
