from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reqflo.runs"
    verbose_name = "Runs"
