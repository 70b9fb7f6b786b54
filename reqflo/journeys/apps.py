from __future__ import annotations

from django.apps import AppConfig

SEED_STEP = "reqflo.journeys.demo.seed_journeys"


class JourneysConfig(AppConfig):
    name = "reqflo.journeys"
    label = "journeys"
    verbose_name = "Journeys"

    def ready(self) -> None:
        from reqflo.core import navigation
        from reqflo.core.models import Role
        from reqflo.core.seeding import SEED_STEPS

        # `manage.py seed_demo` runs the steps later apps register here.
        if SEED_STEP not in SEED_STEPS:
            SEED_STEPS.append(SEED_STEP)
        navigation.register(
            navigation.NavLink(
                "Journeys",
                "journeys:journey_list",
                Role.VIEWER,
                "Build and version multi-step API tests; run them from the editor or with reqflo.",
                position=10,
            )
        )
        navigation.register(
            navigation.NavLink(
                "Environments",
                "journeys:environment_list",
                Role.VIEWER,
                "Base URLs and settings of each target: sandbox, staging, production.",
                position=40,
                admin=True,
            )
        )
