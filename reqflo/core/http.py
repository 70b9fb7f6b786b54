"""Typed request classes and the one htmx convention every view follows (docs/htmx.md).

- ``htmx_partial(request)`` decides full page or fragment: an htmx request gets the named
  partial of the page's template, except a boosted one, which navigates and gets the page.
- ``render_page`` renders the page or its partial by that rule; the page includes the partial,
  so the markup lives once.
- A form with errors answers ``FORM_ERROR_STATUS`` (400) with the same page or partial it would
  show on success; htmx swaps 400 and 409 like a 200 (``responseHandling`` in base_bare.html),
  so the fragment shows the errors in place. No view picks another status for form errors.
- ``redirect_to`` sends the browser on after a change: ``HX-Redirect`` for htmx (a full page
  load), a 302 otherwise. ``render_poll`` answers a polling fragment, with 286 once the thing it
  watches is finished, so htmx stops polling.
- ``Vary: HX-Request`` is added to every response by ``HtmxVaryMiddleware``, nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from reqflo.core.models import Membership, Workspace

# The status of every answer that shows a form again with its errors.
FORM_ERROR_STATUS = 400


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's and our workspace middleware.

    ``workspace`` and ``membership`` are the user's current workspace (kept in the session) and
    their membership in it, or ``None`` for anonymous users and users without any workspace.
    """

    # Declared for mypy only, as django-stubs suggests for attributes middleware adds.
    htmx: HtmxDetails
    user: User | AnonymousUser
    workspace: Workspace | None
    membership: Membership | None


class AuthedHttpRequest(HtmxHttpRequest):
    """A request behind ``@login_required``: ``user`` is a real, signed-in user."""

    user: User


def htmx_partial(request: HttpRequest) -> bool:
    """Return whether to answer with a fragment: an htmx request that is not boosted."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def render_page(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partial: str,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or only its ``partial`` when ``htmx_partial(request)``."""
    name = f"{template}#{partial}" if htmx_partial(request) else template
    return render(request, name, context, status=status)


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to ``url``: a full page load for htmx, a plain redirect otherwise."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    response: HttpResponseRedirect = redirect(url)
    return response


def render_poll(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partial: str,
    finished: bool,
) -> HttpResponse:
    """Answer a polling request with the partial; once ``finished``, with 286 to stop polling.

    The page includes the same partial with ``hx-trigger="every …"`` only while unfinished.
    """
    if finished and htmx_partial(request):
        return HttpResponseStopPolling(
            render_to_string(f"{template}#{partial}", dict(context), request=request)
        )
    return render_page(request, template, context, partial=partial)
