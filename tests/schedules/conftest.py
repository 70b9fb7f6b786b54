from __future__ import annotations

from tests.runners.workers import region, workers
from tests.runs.fixtures import make_scenario, target

__all__ = ["make_scenario", "region", "target", "workers"]
