"""Request plumbing shared by every page: htmx caching headers and the current workspace."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
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


class NoStoreMiddleware:
    """Send ``Cache-Control: no-store`` with every page a signed-in user gets.

    Those pages hold workspace data; no browser cache, shared proxy or back button after a sign
    out should keep a copy. Static files are answered by WhiteNoise before this runs.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class DjangoAdminGateMiddleware:
    """Answer 404 under ``/django-admin/`` unless ``REQFLO_DJANGO_ADMIN`` turns it on.

    Everything owners and members do has its own pages; the Django admin is a maintenance tool,
    and one more sign-in form and set of pages facing the internet in production.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.REQFLO_DJANGO_ADMIN and request.path_info.startswith("/django-admin/"):
            raise Http404("The Django admin is off (REQFLO_DJANGO_ADMIN).")
        return self.get_response(request)
