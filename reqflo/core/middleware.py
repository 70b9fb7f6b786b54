"""Request plumbing shared by every page: htmx caching headers and the current workspace."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from reqflo.core.access import NoWorkspace, resolve_current_membership

Handler = Callable[[HttpRequest], HttpResponse]


class HtmxVaryMiddleware:
    """Add ``Vary: HX-Request`` so caches keep full pages and htmx fragments apart."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class CurrentWorkspaceMiddleware:
    """Attach ``request.workspace`` and ``request.membership`` (see ``reqflo.core.access``).

    A view that needs a workspace while the user has none raises ``NoWorkspace``; this sends
    them to the workspaces page, where they can create one.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = resolve_current_membership(request)
        request.membership = membership  # type: ignore[attr-defined]
        request.workspace = membership.workspace if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, NoWorkspace):
            return None
        messages.info(request, "You are not a member of any workspace yet. Create one to start.")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(reverse("core:workspace_list"))
        return redirect("core:workspace_list")
