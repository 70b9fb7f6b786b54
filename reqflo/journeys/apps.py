from __future__ import annotations

from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "reqflo.journeys"
    label = "journeys"
    verbose_name = "Journeys"
