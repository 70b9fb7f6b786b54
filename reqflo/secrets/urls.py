"""Admin → Secrets, mounted at ``admin/secrets/`` under the ``secrets`` namespace."""

from __future__ import annotations

from django.urls import path

from reqflo.secrets import views

app_name = "secrets"

urlpatterns = [
    path("", views.secret_list, name="secret_list"),
    path("new/", views.secret_create, name="secret_create"),
    path("audit/", views.audit_list, name="audit_list"),
    path("<uuid:secret_id>/", views.secret_detail, name="secret_detail"),
    path("<uuid:secret_id>/rotate/", views.secret_rotate, name="secret_rotate"),
    path("<uuid:secret_id>/description/", views.secret_describe, name="secret_describe"),
    path(
        "<uuid:secret_id>/environments/set/",
        views.secret_environment_set,
        name="secret_environment_set",
    ),
    path(
        "<uuid:secret_id>/environments/clear/",
        views.secret_environment_clear,
        name="secret_environment_clear",
    ),
    path("<uuid:secret_id>/delete/", views.secret_delete, name="secret_delete"),
]
