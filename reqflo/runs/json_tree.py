"""A JSON response body as coloured HTML whose values name their JSONPath.

The editor's Send panel offers to turn a clicked value into an assertion or an output; each
scalar is a ``<span data-path="$.items[0].id" data-value="…">`` so the page needs no parser.
Classes are Pygments' JSON token classes, so the run pages' colours apply (``runs.css``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.html import escape

from reqflo.engine import numbers
from reqflo.engine.redaction import REDACTED

MAX_NODES = 5_000  # beyond this the body is shown as plain pretty text (no paths)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _TooBig(Exception):
    pass


_CONTROL = re.compile(r"[\x00-\x1f]")


def child_path(path: str | None, key: str | int) -> str | None:
    """Return the JSONPath of ``key`` under ``path`` (``$.a``, ``$["a b"]``, ``$[0]``).

    None under a key with control characters, which the JSONPath engine does not read back.
    """
    if path is None or (isinstance(key, str) and _CONTROL.search(key)):
        return None
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _scalar(value: Any, path: str | None) -> str:
    text = numbers.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        css = "kc"
    elif isinstance(value, str):
        css = "s2"
    else:
        css = "mf" if "." in text else "mi"
    if path is None or (isinstance(value, str) and REDACTED in value):
        # A masked secret: nothing to assert on or keep from the page.
        return f'<span class="{css} masked">{escape(text)}</span>'
    return (
        f'<span class="{css} pick" data-path="{escape(path)}" data-value="{escape(text)}"'
        f' tabindex="0" role="button">{escape(text)}</span>'
    )


def _node(value: Any, path: str | None, indent: int, out: list[str], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    pad = "  " * (indent + 1)
    if isinstance(value, dict) and value:
        out.append('<span class="p">{</span>\n')
        for n, (key, item) in enumerate(value.items()):
            out.append(
                f'{pad}<span class="nt">{escape(json.dumps(key, ensure_ascii=False))}</span>'
            )
            out.append('<span class="p">: </span>')
            _node(item, child_path(path, key), indent + 1, out, budget)
            out.append('<span class="p">,</span>\n' if n < len(value) - 1 else "\n")
        out.append("  " * indent + '<span class="p">}</span>')
    elif isinstance(value, list) and value:
        out.append('<span class="p">[</span>\n')
        for n, item in enumerate(value):
            out.append(pad)
            _node(item, child_path(path, n), indent + 1, out, budget)
            out.append('<span class="p">,</span>\n' if n < len(value) - 1 else "\n")
        out.append("  " * indent + '<span class="p">]</span>')
    elif isinstance(value, dict | list):
        out.append(f'<span class="p">{"{}" if isinstance(value, dict) else "[]"}</span>')
    else:
        out.append(_scalar(value, path))


def json_tree_html(text: str | None) -> str | None:
    """Return the body as escaped, coloured HTML with a JSONPath on every value.

    None when the body is not JSON, or too big to annotate (the caller shows it as text).
    """
    if not text:
        return None
    try:
        value = numbers.loads(text)
    except ValueError:
        return None
    out: list[str] = []
    try:
        _node(value, "$", 0, out, [MAX_NODES])
    except (_TooBig, RecursionError):
        return None
    return "".join(out)
