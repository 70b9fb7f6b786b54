"""Typed request classes, so views and access helpers type-check what middleware attaches."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from reqflo.core.models import Membership, Workspace


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
