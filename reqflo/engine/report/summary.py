"""Running totals over the runs of one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reqflo.engine.results import RunResult


@dataclass
class StepCounts:
    """How many steps ended in each status."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0

    def add(self, status: str) -> None:
        self.total += 1
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class ReportSummary:
    """Count runs and steps as they stream past, so reports never hold every run in memory."""

    runs: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    steps: StepCounts = field(default_factory=StepCounts)
    duration_ms: float = 0.0

    def add(self, run: RunResult) -> None:
        self.runs += 1
        setattr(self, run.status, getattr(self, run.status) + 1)
        for step in run.steps:
            self.steps.add(step.status)
        self.duration_ms += run.duration_ms

    @property
    def status(self) -> str:
        """Return "passed" only when every run passed (an empty report has not passed)."""
        return "passed" if self.runs and self.passed == self.runs else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "runs": self.runs,
            "passed": self.passed,
            "failed": self.failed,
            "error": self.error,
            "steps": {
                "total": self.steps.total,
                "passed": self.steps.passed,
                "failed": self.steps.failed,
                "error": self.steps.error,
                "skipped": self.steps.skipped,
            },
            "duration_ms": round(self.duration_ms, 3),
        }
