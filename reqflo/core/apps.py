from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "reqflo.core"
    label = "core"
    verbose_name = "Workspaces"

    def ready(self) -> None:
        # Load the Celery app with Django so tasks bind to it (the engine and CLI never import it).
        from django.contrib.auth.signals import user_logged_in

        from reqflo import celery  # noqa: F401
        from reqflo.core import (
            lookups,  # noqa: F401  (registers JSONField's has_element)
            navigation,
        )
        from reqflo.core.models import Role
        from reqflo.core.throttle import forget_account_failures

        user_logged_in.connect(forget_account_failures, dispatch_uid="reqflo-throttle-reset")

        navigation.register(
            navigation.NavLink(
                "Members",
                "core:member_list",
                Role.VIEWER,
                "Who works in this workspace, and with which role.",
                position=50,
                admin=True,
            )
        )
