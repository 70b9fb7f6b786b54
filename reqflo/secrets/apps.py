from __future__ import annotations

from django.apps import AppConfig


class SecretsConfig(AppConfig):
    name = "reqflo.secrets"
    label = "secrets"
    verbose_name = "Secrets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the store-key system check.
        from reqflo.secrets import checks  # noqa: F401
