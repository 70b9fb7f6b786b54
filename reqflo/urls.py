"""Root URL configuration: one include per app, each with its own namespace."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from reqflo.api.api import api

urlpatterns = [
    path("", include("reqflo.core.urls")),
    path("accounts/", include("reqflo.core.account_urls")),
    path("admin/secrets/", include("reqflo.secrets.urls")),
    path("admin/runners/", include("reqflo.runners.urls")),
    path("", include("reqflo.api.urls")),
    path("api/v1/", api.urls),
    path("runs/", include("reqflo.runs.urls")),
    path("runs/", include("reqflo.runners.dispatch_urls")),
    path("schedules/", include("reqflo.schedules.urls")),
    # Journeys (/journeys/…) and environments (/admin/environments/…), one namespace.
    path("", include("reqflo.journeys.urls")),
    path("django-admin/", admin.site.urls),
]

if settings.REQFLO_DEMO_TARGET:
    urlpatterns.append(path("demo-shop/api/", include("reqflo.demo.urls")))

handler403 = "reqflo.core.views.errors.forbidden"
handler404 = "reqflo.core.views.errors.not_found"
handler500 = "reqflo.core.views.errors.server_error"
