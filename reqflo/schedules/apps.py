from __future__ import annotations

from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reqflo.schedules"
    verbose_name = "Schedules"

    def ready(self) -> None:
        from reqflo.core import navigation
        from reqflo.core.models import Role
        from reqflo.journeys.hooks import register_dependents, register_journey_rows
        from reqflo.journeys.signals import archived
        from reqflo.schedules.selectors import journeys_monitor
        from reqflo.schedules.services import schedules_pause_for_archived, schedules_using

        register_journey_rows(journeys_monitor)
        register_dependents(schedules_using)
        archived.connect(schedules_pause_for_archived, dispatch_uid="schedules.archived")
        navigation.register(
            navigation.NavLink(
                "Schedules",
                "schedules:list",
                Role.VIEWER,
                "Journeys that run themselves on a schedule, their health and their alerts.",
                position=25,
            )
        )
