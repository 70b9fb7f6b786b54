"""Turn a raw JSON body that holds `{{variables}}` into a JSON value with Reqflo references.

Postman bodies often hold a variable outside quotes (`{"id": {{id}}}`), which is not JSON. Each
variable is swapped for a placeholder string before parsing; a placeholder that stood alone
outside quotes becomes a string that is exactly one reference, which the engine sends with the
value's own type, so `{{id}}` still sends a number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_VARIABLE = re.compile(r"\{\{[^{}]*\}\}")


def json_body(raw: str, translate: Callable[[str], str]) -> tuple[Any] | None:
    """Return `(value,)` with variables translated by `translate`, or None if not JSON."""
    found: dict[str, str] = {}
    pieces: list[str] = []
    position, in_string, escaped = 0, False, False
    for match in _VARIABLE.finditer(raw):
        for char in raw[position : match.start()]:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = in_string
            elif char == '"':
                in_string = not in_string
        token = f"\x00rq{len(found)}\x00"
        found[token] = match.group(0)
        pieces.append(raw[position : match.start()])
        pieces.append(token if in_string else f'"{token}"')
        position = match.end()
    pieces.append(raw[position:])
    try:
        value = json.loads("".join(pieces).replace("\x00", "\\u0000"))
    except (json.JSONDecodeError, RecursionError):
        return None

    def restore(node: Any) -> Any:
        if isinstance(node, str):
            for token, original in found.items():
                node = node.replace(token, original)
            return translate(node) if "{{" in node else node
        if isinstance(node, list):
            return [restore(item) for item in node]
        if isinstance(node, dict):
            return {restore(key): restore(item) for key, item in node.items()}
        return node

    return (restore(value),)
