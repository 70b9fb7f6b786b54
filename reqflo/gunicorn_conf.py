"""gunicorn settings for the Procfile's `web` line (`--config python:reqflo.gunicorn_conf`).

Command-line options of that line still apply; this module only adds server hooks.
"""

from __future__ import annotations

from typing import Any

from reqflo.core.collector import tune_for_serving


def post_worker_init(worker: Any) -> None:
    """Tune the collector once the worker has loaded the app (``reqflo.core.collector``)."""
    tune_for_serving()
