"""Django's admin site: secrets are listed for support, values are never shown or editable.

Values change only through Admin → Secrets, which writes the audit log; here every value row
shows its environment, whether it is readable, its fingerprint and when it was set. Value rows
are loaded with the plaintext deferred, so these pages never decrypt anything.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reqflo.secrets.models import Secret, SecretAuditEvent, SecretValue
from reqflo.secrets.selectors import value_is_intact, values_without_plaintext


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SecretValueInline(ReadOnlyMixin, admin.TabularInline[SecretValue, Secret]):
    model = SecretValue
    # ``value`` is deliberately absent: listing it would decrypt and print it.
    fields = ("environment", "state", "fingerprint", "set_by", "set_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return values_without_plaintext()

    @admin.display(description="State")
    def state(self, obj: SecretValue) -> str:
        if value_is_intact(obj):
            return "set"
        return "unreadable: cannot be decrypted with the store key; rotate it in Admin → Secrets"


@admin.register(Secret)
class SecretAdmin(ReadOnlyMixin, admin.ModelAdmin[Secret]):
    list_display = ("name", "workspace", "description", "changed_at", "last_used_at")
    list_filter = ("workspace",)
    search_fields = ("name", "description")
    fields = (
        "workspace",
        "name",
        "description",
        "created_by",
        "created_at",
        "changed_by",
        "changed_at",
        "last_used_at",
        "last_used_run",
    )
    readonly_fields = fields
    inlines = [SecretValueInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("workspace")


@admin.register(SecretAuditEvent)
class SecretAuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin[SecretAuditEvent]):
    list_display = ("at", "workspace", "secret_name", "kind", "environment", "actor_name", "run_id")
    list_filter = ("kind", "workspace")
    search_fields = ("secret_name", "actor_name", "run_id")
    readonly_fields = [f.name for f in SecretAuditEvent._meta.fields]
