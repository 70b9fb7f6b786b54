"""Request plumbing shared by every page: htmx caching headers and the current workspace."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from reqflo.core.access import NoWorkspace, resolve_current_membership

Handler = Callable[[HttpRequest], HttpResponse]


class HtmxVaryMiddleware:
    """Add ``Vary: HX-Request``, and turn login redirects of htmx requests into page loads.

    The Vary header keeps full pages and fragments apart in caches. Without the second part, a
    session that ends while a page is open would swap the login form into a table cell.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if htmx and response.status_code == 302:
            login_url = resolve_url(settings.LOGIN_URL)
            if response["Location"].startswith(login_url):
                back_to = htmx.current_url_abs_path or "/"
                response = HttpResponseClientRedirect(
                    f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: back_to})}"
                )
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
