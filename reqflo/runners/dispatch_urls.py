"""Starting and stopping runs, mounted at ``runs/`` under the ``dispatch`` namespace."""

from __future__ import annotations

from django.urls import path

from reqflo.runners import dispatch_views, send_views

app_name = "dispatch"

urlpatterns = [
    path("new/<uuid:journey_id>/", dispatch_views.run_new, name="new"),
    path("new/<uuid:journey_id>/runner/", dispatch_views.journey_runner, name="journey_runner"),
    path("send/<uuid:journey_id>/", send_views.send, name="send"),
    path("<uuid:run_id>/send/", send_views.send_panel, name="send_panel"),
    path("<uuid:run_id>/rerun/", dispatch_views.rerun, name="rerun"),
    path("<uuid:run_id>/cancel/", dispatch_views.cancel, name="cancel"),
    path("batches/<uuid:batch_id>/cancel/", dispatch_views.cancel_batch, name="cancel_batch"),
]
