"""The project's URLs plus one view that fails, to see the 500 page as a user would."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from reqflo.urls import handler403, handler404, handler500
from reqflo.urls import urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("database password is hunter2-do-not-show")


urlpatterns = [*project_urlpatterns, path("test-failure/", fail)]
