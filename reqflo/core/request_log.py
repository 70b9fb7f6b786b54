"""Django's request log, one line per refused request, with no token from the URL in it.

``django.request`` logs every 4xx and 5xx with the request path, and a refused permission
(``PermissionDenied``, HTTP 403) with the exception's full traceback, as if it were a fault. A
403 is an expected answer: this filter drops its traceback so it is one line. And a path can
carry a credential (an invitation link is ``/invitations/<token>/``): every URL keyword named in
``SENSITIVE_URL_KWARGS`` is replaced by ``…`` in the logged path, whatever the status.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse

SENSITIVE_URL_KWARGS = frozenset({"token"})
REDACTED = "…"

# The URL names whose ``token`` keyword is a credential, for text that is not a resolved request
# (gunicorn's access line, a ``?next=`` query, a Referer).
TOKEN_URL_NAMES = ("core:invitation_accept",)


def safe_path(request: HttpRequest) -> str:
    """Return ``request.path`` with every sensitive URL keyword's value replaced by ``…``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return request.path
    path = request.path
    for name, value in match.kwargs.items():
        if name in SENSITIVE_URL_KWARGS and str(value):
            path = path.replace(str(value), REDACTED)
    return path


@cache
def _token_patterns() -> tuple[re.Pattern[str], ...]:
    patterns = []
    for name in TOKEN_URL_NAMES:
        prefix = reverse(name, kwargs={"token": "TOKEN"}).split("TOKEN")[0]
        # Each "/" of the prefix may arrive percent-encoded (a ``?next=`` value, where the
        # token's own ":" is "%3A" too); the token ends at the next "/" in either spelling, or
        # at a query, fragment, space or quoting character.
        spelled = "(?:/|%2f)".join(re.escape(part) for part in prefix.split("/"))
        token = "(?:(?!%2f)[^/?&#\\s\"'])+"
        patterns.append(re.compile(f"({spelled}){token}", re.IGNORECASE))
    return tuple(patterns)


def mask_url_tokens(text: str) -> str:
    """Return ``text`` with the token of every credential-bearing link in it replaced by ``…``.

    ``"GET /invitations/abc123/ HTTP/1.1"`` becomes ``"GET /invitations/…/ HTTP/1.1"``, and
    ``"next=%2Finvitations%2Fabc123%2F"`` becomes ``"next=%2Finvitations%2F…%2F"``. The links are
    found from the URL conf (``TOKEN_URL_NAMES``), so a moved route stays masked.
    """
    for pattern in _token_patterns():
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RequestLogFilter(logging.Filter):
    """Attached to ``django.request`` and ``django.security`` (settings.LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and record.args:
            safe = safe_path(request)
            if safe != request.path:
                record.args = _replaced(record.args, request.path, safe)
        return True


def _replaced(args: Any, path: str, safe: str) -> Any:
    if isinstance(args, tuple):
        return tuple(safe if arg == path else arg for arg in args)
    return args


def axes_client_str(
    username: str, ip_address: str, user_agent: str, path_info: Any, request: HttpRequest | None
) -> str:
    """django-axes' client description for its log lines, with the path made safe as above.

    The same ``{username: "…", ip_address: "…", path_info: "…"}`` as axes writes (masked as
    ``AXES_SENSITIVE_PARAMETERS`` says), except that an invitation link's token is not in it.
    """
    # Imported here: logging is configured before the apps (and axes' settings) are ready.
    from axes.helpers import cleanse_parameters, get_client_parameters

    client: dict[str, Any] = {}
    for part in get_client_parameters(username, ip_address, user_agent, request):
        client.update(part)
    client = cleanse_parameters(client)
    if isinstance(path_info, (tuple, list)):
        path_info = path_info[0]
    client["path_info"] = safe_path(request) if isinstance(request, HttpRequest) else path_info
    return "{" + ", ".join(f'{key}: "{value}"' for key, value in client.items()) + "}"
