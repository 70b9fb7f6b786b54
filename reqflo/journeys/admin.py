"""Django admin for support staff: every journeys model, read-only.

Changes go through the services (an environment rename moves its secret values, a journey's
name comes from its latest version, deleting a used case archives it), which a plain admin
form would bypass; staff change things in the app's own pages instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reqflo.journeys.models import BuildArtifact, Case, Environment, Journey, JourneyVersion


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """View only; versions and artifacts are write-once besides (a database trigger)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Journey)
class JourneyAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "workspace", "head_number", "archived", "updated_at"]
    list_filter = ["archived"]
    search_fields = ["name", "slug", "workspace__name"]


@admin.register(JourneyVersion)
class JourneyVersionAdmin(ReadOnlyAdmin):
    list_display = ["journey", "number", "author", "message", "created_at"]
    search_fields = ["journey__name", "journey__slug"]
    list_select_related = ["journey", "author"]


@admin.register(BuildArtifact)
class BuildArtifactAdmin(ReadOnlyAdmin):
    list_display = ["artifact_id", "version", "compiler_version", "created_at"]
    search_fields = ["artifact_id"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "journey", "archived"]
    search_fields = ["name", "journey__name"]


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace", "base_url", "archived"]
    search_fields = ["name", "workspace__name"]
