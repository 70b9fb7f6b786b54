"""The JSON API at ``api/v1/`` and the API tokens page at ``settings/api-tokens/`` (``tokens``)."""

from __future__ import annotations

from django.urls import path

from reqflo.api import views

app_name = "tokens"

urlpatterns = [
    path("settings/api-tokens/", views.token_list, name="token_list"),
    path("settings/api-tokens/new/", views.token_create, name="token_create"),
    path("settings/api-tokens/<uuid:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
