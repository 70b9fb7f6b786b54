from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from tests.runs.fixtures import make_scenario, target

__all__ = ["make_scenario", "target"]


@pytest.fixture
def slow_heartbeat(settings: Settings) -> None:
    """In-process runs take milliseconds; a heartbeat thread would only contend for locks."""
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60
