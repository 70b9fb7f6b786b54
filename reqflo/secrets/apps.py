from __future__ import annotations

from django.apps import AppConfig


class SecretsConfig(AppConfig):
    name = "reqflo.secrets"
    label = "secrets"
    verbose_name = "Secrets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The store-key system check registers itself on import.
        from reqflo.core import navigation
        from reqflo.core.models import Role
        from reqflo.journeys import hooks
        from reqflo.journeys.signals import environment_renamed
        from reqflo.secrets import checks, selectors, services  # noqa: F401

        # Everyone sees secret *names* (journeys reference them); only owners change values.
        navigation.register(
            navigation.NavLink(
                "Secrets",
                "secrets:secret_list",
                Role.VIEWER,
                "Encrypted credentials that journeys use by name.",
                position=30,
                admin=True,
            )
        )
        # Journeys sits below secrets: it learns secret names and announces renames by hooks.
        hooks.register_secret_names(selectors.workspace_secret_names)
        environment_renamed.connect(
            services.on_environment_renamed, dispatch_uid="secrets.environment_renamed"
        )
