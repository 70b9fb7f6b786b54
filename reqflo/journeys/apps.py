from __future__ import annotations

from django.apps import AppConfig

SEED_STEP = "reqflo.journeys.demo.seed_journeys"


class JourneysConfig(AppConfig):
    name = "reqflo.journeys"
    label = "journeys"
    verbose_name = "Journeys"

    def ready(self) -> None:
        # `manage.py seed_demo` runs the steps later apps register here.
        from reqflo.core.seeding import SEED_STEPS

        if SEED_STEP not in SEED_STEPS:
            SEED_STEPS.append(SEED_STEP)
