"""Admin → Runners, mounted at ``admin/runners/`` under the ``runners`` namespace."""

from __future__ import annotations

from django.urls import path

from reqflo.runners import views

app_name = "runners"

urlpatterns = [
    path("", views.runners, name="runners"),
    path("check/", views.check, name="check"),
    path("status/", views.status, name="status"),
    path("live/", views.live, name="live"),
    path("runs/<uuid:run_id>/cancel/", views.cancel, name="cancel"),
    path("self-hosted/", views.self_hosted_register, name="self_hosted_register"),
    path(
        "self-hosted/<uuid:runner_id>/rotate/", views.self_hosted_rotate, name="self_hosted_rotate"
    ),
    path(
        "self-hosted/<uuid:runner_id>/revoke/", views.self_hosted_revoke, name="self_hosted_revoke"
    ),
]
