from __future__ import annotations

from tests.runs.fixtures import make_scenario, target

__all__ = ["make_scenario", "target"]
