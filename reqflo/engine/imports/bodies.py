"""Turn a raw JSON body that holds `{{variables}}` into a JSON value with Reqflo references.

Postman puts a variable's text into the body as it is: `{"id": {{id}}}` sends `{"id": 7}` when
the variable holds "7". A Reqflo `json:` body cannot say that (a reference alone in a string is
sent with the value's own type: an environment's "7" would go as the string "7"), so a body
with a variable outside quotes is sent as text with the references put in as text, exactly as
Postman does (`unquoted_variables` finds them). `json_body` parses the other JSON bodies, each
variable swapped for a placeholder string and back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_VARIABLE = re.compile(r"\{\{[^{}]*\}\}")


def unquoted_variables(raw: str) -> list[str]:
    """Return the `{{variables}}` of `raw` that stand outside a JSON string, in order."""
    out: list[str] = []
    position, in_string, escaped = 0, False, False
    for match in _VARIABLE.finditer(raw):
        for char in raw[position : match.start()]:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = in_string
            elif char == '"':
                in_string = not in_string
        if not in_string:
            out.append(match.group(0))
        position = match.end()
    return out


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
