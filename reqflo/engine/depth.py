"""Refuse documents nested deeper than MAX_DEPTH before anything recursive touches them.

Python's JSON and YAML readers, the validators, the compiler and the pages' renderers recurse
once per level: a JSON array nested 20,000 deep, or a YAML `json:` body a few hundred levels
deep, would end in a RecursionError (a 500 on a page). The checks here do not recurse: JSON
text is scanned bracket by bracket, YAML text event by event (the parser is a state machine;
only building the objects recurses), parsed data with an explicit stack. Each failure is a
DefinitionError `too_deep` that names the limit and where it was passed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.errors import DefinitionError, Issue
from reqflo.engine.yaml_module import yaml

# Levels from the document's root: `journey.steps[0].request.json` is already 5. Real bodies
# and schemas stay far below; every recursive reader stays far from Python's recursion limit.
MAX_DEPTH = 64

# Data that arrives while running (response bodies, inputs, data rows) may nest deeper than a
# document, but each walk of it (JSONPath, references, redaction, reports) recurses once or twice
# per level: past this limit a body or an input is refused with a reason, never walked.
MAX_DATA_DEPTH = 256

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def too_deep(where: str, path: str = "") -> DefinitionError:
    message = (
        f"the document is nested more than {MAX_DEPTH} levels deep{where}; "
        f"{MAX_DEPTH} levels is the limit"
    )
    return DefinitionError([Issue("error", "too_deep", path, message)])


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f" at line {line}, column {column}"


def nesting_passes(text: str, limit: int) -> str | None:
    """Return where JSON text nests arrays and objects deeper than `limit` (" at line 1,
    column 65"), or None; a scan, not a parse (nothing recurses)."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return _position(text, match.start())
        elif token in "]}":
            depth -= 1
    return None


def check_json_text(text: str) -> None:
    """Raise `too_deep` if JSON text nests arrays and objects deeper than MAX_DEPTH."""
    where = nesting_passes(text, MAX_DEPTH)
    if where is not None:
        raise too_deep(where)


def load_json(text: str) -> Any:
    """`json.loads` that raises `too_deep` instead of recursing without end; a decimal keeps
    every digit (a Decimal where a float would round it, as `numbers.loads`)."""
    check_json_text(text)
    return numbers.loads(text)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load` with libyaml's parser when installed (a tenth of the pure-Python one's
    time), raising `too_deep` instead of recursing without end; syntax errors are yaml's own."""
    check_yaml_text(text)
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader


def check_yaml_text(text: str) -> None:
    """Raise `too_deep` if YAML text nests deeper than MAX_DEPTH (syntax errors: yaml's own)."""
    if text.count("\n") + text.count("[") + text.count("{") + text.count("- ") <= MAX_DEPTH:
        return  # not enough lines or brackets to nest that deep
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                raise too_deep(where)
        elif isinstance(event, _CLOSING):
            depth -= 1


def passes(data: Any, limit: int) -> bool:
    """Return whether parsed data passes `limit` levels (no recursion, no paths built)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= limit:
            return True
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False


def deepest_path(data: Any, limit: int) -> str | None:
    """Return the path where parsed data passes `limit` levels, or None (no recursion).

    Data within the limit (nearly always) is walked once without naming paths; only data
    that passes it is walked again to name where.
    """
    if not isinstance(data, dict | list) or not passes(data, limit):
        return None
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth >= limit:
            return path
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((item, depth + 1, f"{path}.{key}" if path else str(key)))
        else:
            for index, item in enumerate(value):
                stack.append((item, depth + 1, f"{path}[{index}]"))
    return None


def check_data(data: Any) -> None:
    """Raise `too_deep` naming the path where parsed data passes MAX_DEPTH levels."""
    path = deepest_path(data, MAX_DEPTH)
    if path is not None:
        raise too_deep("", path)


class TooDeep(ValueError):
    """Data nested deeper than MAX_DATA_DEPTH; the message names the limit."""


def data_too_deep(what: str) -> TooDeep:
    return TooDeep(
        f"{what} is nested more than {MAX_DATA_DEPTH} levels deep; "
        f"{MAX_DATA_DEPTH} levels is the limit"
    )


def check_value(value: Any, what: str) -> None:
    """Raise TooDeep if parsed data nests deeper than MAX_DATA_DEPTH."""
    if deepest_path(value, MAX_DATA_DEPTH) is not None:
        raise data_too_deep(what)


def loads_data(text: str | bytes | bytearray, what: str, loads: Any = json.loads) -> Any:
    """Parse JSON received while running; raise TooDeep past MAX_DATA_DEPTH levels.

    The parser itself recurses once per level: far past the limit it raises RecursionError,
    which is the same refusal. Below it, the parsed value is walked only if the text holds
    enough brackets to nest that deep.
    """
    try:
        value = loads(text)
    except RecursionError:
        raise data_too_deep(what) from None
    opening = (b"[", b"{") if isinstance(text, bytes | bytearray) else ("[", "{")
    if text.count(opening[0]) + text.count(opening[1]) > MAX_DATA_DEPTH:  # type: ignore[arg-type]
        check_value(value, what)
    return value
