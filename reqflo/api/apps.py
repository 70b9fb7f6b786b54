from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reqflo.api"
    verbose_name = "API"

    def ready(self) -> None:
        from reqflo.core import navigation
        from reqflo.core.models import Role

        # Every member may hold tokens (a viewer's token reads); owners also see everyone's.
        navigation.register(
            navigation.NavLink(
                "API tokens",
                "tokens:token_list",
                Role.VIEWER,
                "Personal tokens for the reqflo command and CI, each for one workspace.",
                position=70,
                admin=True,
            )
        )
