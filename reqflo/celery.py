"""The Celery application; configuration comes from Django settings (``CELERY_`` namespace)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.settings")

app = Celery("reqflo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect(weak=False)
def _quiet_housekeeping(logger: Any, **kwargs: Any) -> None:
    # Imported here: the module reads Django settings, ready only once Celery set Django up.
    from reqflo.core.task_log import install

    install(logger, **kwargs)
