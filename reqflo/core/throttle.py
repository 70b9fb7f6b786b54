"""Sign-in throttling (django-axes): who a failed sign-in counts against.

Failures are counted per account and per client address; either reaching the limit locks that
account or address out for the cool-off time, whatever password comes next. A successful sign-in
clears the failures made against that account only: failures against other accounts keep
counting against the address (and against those accounts).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reqflo.core.services import normalize_email


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Return the account a sign-in is for, as the login form normalises it.

    Counting the raw text would let ``Owner@Acme.test`` and ``owner@acme.test`` each have their
    own allowance of failures for the same account.
    """
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return normalize_email(str(raw))


def client_address(request: HttpRequest) -> str:
    """Return the client's address: the one our reverse proxy saw, when there is one.

    Behind the proxy (``REQFLO_BEHIND_PROXY``) every request comes from the proxy, which appends
    the client's address to ``X-Forwarded-For``; its last entry is the one a client cannot forge.
    Otherwise the header is ignored (anyone could send it) and the socket's peer counts.
    """
    if settings.REQFLO_BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """Answer a locked-out sign-in with a page that says so, status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def forget_account_failures(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On ``user_logged_in``: clear the failures recorded against this account, and only those."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=normalize_email(user.get_username())).delete()
