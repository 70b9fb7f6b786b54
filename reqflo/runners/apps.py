from __future__ import annotations

from django.apps import AppConfig


class RunnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reqflo.runners"
    verbose_name = "Runners"

    def ready(self) -> None:
        from reqflo.core import navigation
        from reqflo.core.models import Role
        from reqflo.journeys.checks import register_run_check
        from reqflo.journeys.hooks import register_import_transport
        from reqflo.runners import heartbeats  # noqa: F401  (connects the worker signals)
        from reqflo.runners.config import workspace_transport
        from reqflo.runners.limits import cloud_run_check
        from reqflo.runners.selectors import run_attempts
        from reqflo.runs.hooks import register_attempt_reader

        register_run_check(cloud_run_check)
        # The run page and the evidence bundle show the attempt records kept here.
        register_attempt_reader(run_attempts)
        # The import page fetches an OpenAPI URL under the same egress policy as cloud runs.
        register_import_transport(workspace_transport)
        # Everyone sees the settings, the workers and the queue; only owners change settings.
        navigation.register(
            navigation.NavLink(
                "Runners",
                "runners:runners",
                Role.VIEWER,
                "The Cloud Runner: its settings, its workers and the runs waiting for them.",
                position=45,
                admin=True,
            )
        )
