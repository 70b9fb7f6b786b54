"""Template filters of the schedules pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def webhook_origin(url: str) -> str:
    """Show a webhook URL as ``scheme://host/…``: its path often is the token (Slack's is)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"
