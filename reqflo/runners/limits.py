"""Owners' limits on cloud runs: a step's timeout, retries and retry delay, capped per workspace.

A journey may ask for any ``timeout_ms`` and ``retries``; on the Cloud Runner the workspace's
runner settings are the ceiling (the step timeout also applies to a step that asks for none).
The worker runs the capped plan, and the editor's Run check shows each capped value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from reqflo.core.models import Workspace
from reqflo.engine import Definition, Issue
from reqflo.runners.models import RunnerConfig


@dataclass(frozen=True)
class StepLimits:
    """The ceilings of one workspace: milliseconds for times, a count for retries."""

    timeout_ms: int
    retries: int
    delay_ms: int

    @classmethod
    def of(cls, config: RunnerConfig) -> StepLimits:
        return cls(
            timeout_ms=config.step_timeout_seconds * 1000,
            retries=config.step_max_retries,
            delay_ms=config.step_max_retry_delay_seconds * 1000,
        )

    def longest_step_seconds(self) -> float:
        """Return how long one step may take at most: every attempt timing out, every delay."""
        return ((self.retries + 1) * self.timeout_ms + self.retries * self.delay_ms) / 1000


@dataclass(frozen=True)
class Capped:
    """One value a step asked for that the Cloud Runner lowers."""

    path: str
    asked: float
    applied: int
    setting: str

    def message(self) -> str:
        return (
            f"on the Cloud Runner this step runs with {self.applied:g} instead of "
            f"{self.asked:g}: {self.setting}"
        )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def step_caps(steps: list[dict[str, Any]], limits: StepLimits) -> list[Capped]:
    """Return every value of ``steps`` (normalised plan or definition steps) above the limits."""
    caps: list[Capped] = []
    for index, step in enumerate(steps):
        timeout = _number(step.get("timeout_ms"))
        retries = step.get("retries") or {}
        count, delay = _number(retries.get("count")), _number(retries.get("delay_ms"))
        if timeout > limits.timeout_ms:
            caps.append(
                Capped(
                    f"steps[{index}].timeout_ms",
                    timeout,
                    limits.timeout_ms,
                    f"the workspace's step timeout is {limits.timeout_ms // 1000} s",
                )
            )
        if count > limits.retries:
            caps.append(
                Capped(
                    f"steps[{index}].retries.count",
                    count,
                    limits.retries,
                    f"the workspace allows at most {limits.retries} retries per step",
                )
            )
        if count and delay > limits.delay_ms:
            caps.append(
                Capped(
                    f"steps[{index}].retries.delay_ms",
                    delay,
                    limits.delay_ms,
                    f"the workspace's longest retry delay is {limits.delay_ms // 1000} s",
                )
            )
    return caps


def capped_plan(plan: dict[str, Any], limits: StepLimits) -> dict[str, Any]:
    """Return a copy of an artifact's plan with every step within the limits."""
    capped = copy.deepcopy(plan)
    for step in capped["steps"]:
        asked = step.get("timeout_ms")
        step["timeout_ms"] = min(_number(asked) or limits.timeout_ms, limits.timeout_ms)
        retries = step.setdefault("retries", {"count": 0, "delay_ms": 0})
        retries["count"] = int(min(_number(retries.get("count")), limits.retries))
        retries["delay_ms"] = min(_number(retries.get("delay_ms")), limits.delay_ms)
    return capped


def cloud_limit_issues(document: dict[str, Any], config: RunnerConfig) -> list[Issue]:
    """Return a Run check warning for each value the Cloud Runner will cap."""
    caps = step_caps(list(document.get("steps", [])), StepLimits.of(config))
    return [Issue("warning", "cloud_limit", cap.path, cap.message()) for cap in caps]


def cloud_run_check(workspace: Workspace, definition: Definition) -> list[Issue]:
    """The editor's Run check hook: the values this workspace's Cloud Runner caps."""
    steps = definition.document.get("steps", [])
    if not any(s.get("timeout_ms") or (s.get("retries") or {}).get("count") for s in steps):
        return []  # nothing asked for, nothing to cap: no query on every editor page
    config = RunnerConfig.objects.filter(workspace_id=workspace.pk).first() or RunnerConfig()
    return cloud_limit_issues(definition.document, config)


def time_limit_before_step(limit_seconds: int, index: int, step_count: int) -> str:
    """The message of a run stopped at its time limit before step ``index`` (0-based).

    The same words whichever runner stopped it: the Cloud Runner and a self-hosted runner both
    check the run's deadline (its start plus the workspace's run timeout, by the database
    clock) before each step.
    """
    return (
        f"The run passed its time limit of {limit_seconds} s before step {index + 1} of "
        f"{step_count}."
    )


def time_limit_during_step(limit_seconds: int, index: int, step_count: int, *, who: str) -> str:
    """The message of a run whose time limit interrupted step ``index`` (0-based), not stored.

    ``who``: ``"Cloud Runner"`` (its task's soft time limit: the run timeout plus the longest a
    step may take) or ``"self-hosted runner"`` (at the run's deadline, between a step's retries).
    """
    allowance = ", plus the longest a step may take" if who == "Cloud Runner" else ""
    return (
        f"Run time limit reached during step {index + 1} of {step_count}: the {who} stopped "
        f"the run (the workspace's run timeout is {limit_seconds} s{allowance}). The steps "
        "finished before it are kept."
    )
