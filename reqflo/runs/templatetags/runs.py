"""Template helpers of the run pages: bodies shown readable, values shown as JSON.

Bodies are the stored evidence (redacted before it was stored). A JSON body is pretty-printed
and syntax-coloured by Pygments (token classes styled in static/css/runs.css); any other body
is shown as text. At most ``BODY_PREVIEW`` characters are shown in the page; the rest of the
stored part is a download.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer

from reqflo.runs import display
from reqflo.runs.json_tree import json_tree_html

register = template.Library()

BODY_PREVIEW = 64 * 1024
_FORMATTER = HtmlFormatter(nowrap=True)


@register.filter
def body_html(text: str | None) -> SafeString:
    """Return ``text`` as safe HTML: pretty and coloured when JSON, escaped text otherwise."""
    shown, is_json = display.pretty_body(text)
    cut = len(shown) > BODY_PREVIEW
    shown = shown[:BODY_PREVIEW]
    html = highlight(shown, JsonLexer(), _FORMATTER) if is_json and not cut else escape(shown)
    return mark_safe(html)  # Pygments and escape() escape every character of the body


@register.filter
def body_tree(text: str | None) -> SafeString:
    """Return a body with a JSONPath on each value (the editor's Send panel), else as text."""
    tree = json_tree_html(text) if text and len(text) <= BODY_PREVIEW else None
    if tree is None:
        return body_html(text)
    return mark_safe(tree)  # json_tree_html escapes every key, value and path


@register.filter
def body_cut(text: str | None) -> bool:
    """Return whether the page shows only the first ``BODY_PREVIEW`` characters of ``text``."""
    return len(display.pretty_body(text)[0]) > BODY_PREVIEW


register.filter("as_json", display.as_json)
register.filter("actual_text", display.actual_text)
register.filter("expected_text", display.expected_text)


@register.filter
def size(value: int | None) -> str:
    """Return a size in bytes as people read it ("512 B", "3.2 KiB", "1.5 MiB")."""
    if value is None:
        return "—"
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value / (1024 * 1024):.1f} MiB"


@register.filter
def seconds(value: float | None) -> str:
    """Return seconds as "0.42 s", "12.3 s" or "2 min 5 s"."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f} s"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
