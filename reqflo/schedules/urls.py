"""Schedules and alert channels, mounted at ``schedules/`` under the ``schedules`` namespace."""

from __future__ import annotations

from django.urls import path

from reqflo.schedules import views

app_name = "schedules"

urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("new/", views.schedule_create, name="create"),
    path("<uuid:schedule_id>/", views.schedule_detail, name="detail"),
    path("<uuid:schedule_id>/edit/", views.schedule_edit, name="edit"),
    path("<uuid:schedule_id>/pause/", views.schedule_pause, name="pause"),
    path("<uuid:schedule_id>/delete/", views.schedule_delete, name="delete"),
    path("channels/", views.channel_list, name="channels"),
    path("channels/<uuid:channel_id>/rotate/", views.channel_rotate, name="channel_rotate"),
    path("channels/<uuid:channel_id>/delete/", views.channel_delete, name="channel_delete"),
]
