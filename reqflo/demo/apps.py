from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "reqflo.demo"
    label = "demo"
    verbose_name = "Demo target API"
