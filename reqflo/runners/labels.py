"""Runner labels and where a run goes: the Cloud Runner, or self-hosted runners by label.

A label is lower-case letters, digits, ``.``, ``_`` and ``-`` (at most 40, starting with a
letter or digit): ``staging``, ``eu-vpn``. A run routed to self-hosted runners with labels is
claimed only by a runner that has every one of them (``runner_matches``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from reqflo.engine.runner_labels import MAX_LABELS, label_problem
from reqflo.journeys.models import Journey
from reqflo.runners.models import RunnerChoice, RunnerConfig
from reqflo.runs.models import RunnerKind


def clean_labels(value: Iterable[str] | str | None, *, field: str = "labels") -> list[str]:
    """Return the labels sorted and without repeats; ``ValidationError`` names a bad one.

    A string is split on commas (``a,b`` as ``--labels`` gives it); case is folded.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    labels: list[str] = []
    for raw in items:
        if not isinstance(raw, str):
            raise ValidationError({field: f"A label must be text, not {type(raw).__name__}."})
        label = raw.strip().lower()
        if not label:
            continue
        problem = label_problem(raw)
        if problem:
            raise ValidationError({field: problem})
        if label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise ValidationError({field: f"At most {MAX_LABELS} labels (got {len(labels)})."})
    return sorted(labels)


def runner_matches(selector: Iterable[str], labels: Iterable[str]) -> bool:
    """Return whether a runner with ``labels`` may claim a run whose selector is ``selector``."""
    return set(selector) <= set(labels)


@dataclass(frozen=True)
class Route:
    """Where one dispatch sends its runs: the runner kind and, for self-hosted, the labels."""

    kind: RunnerKind
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind != RunnerKind.SELF_HOSTED:
            return str(RunnerKind(self.kind).label)
        if not self.labels:
            return "Self-hosted runners (any)"
        return f"Self-hosted runners labelled {', '.join(self.labels)}"


def default_route(*, config: RunnerConfig, journey: Journey | None = None) -> Route:
    """Return where runs go when the dispatch does not say: the journey's default runner if it
    has one, else the workspace's (docs/self-hosted-runners.md, "Routing")."""
    if journey is not None and journey.default_runner == RunnerChoice.CLOUD:
        return Route(RunnerKind.CLOUD)
    if journey is not None and journey.default_runner == RunnerChoice.SELF_HOSTED:
        return Route(RunnerKind.SELF_HOSTED, tuple(clean_labels(journey.default_runner_labels)))
    if config.default_runner == RunnerChoice.SELF_HOSTED:
        return Route(RunnerKind.SELF_HOSTED, tuple(clean_labels(config.default_runner_labels)))
    return Route(RunnerKind.CLOUD)


def route_for(
    *,
    config: RunnerConfig,
    runner: str | None = None,
    labels: Iterable[str] | None = None,
    journey: Journey | None = None,
) -> Route:
    """Return the route of a dispatch: what it asked for, else the journey's default runner,
    else the workspace's (explicit > journey default > workspace default).

    ``runner`` is ``cloud``, ``self_hosted`` or None (the default); labels alone mean
    self-hosted. Raises ``ValidationError`` (field ``runner`` or ``runner_labels``).
    """
    wanted = clean_labels(labels, field="runner_labels")
    if runner not in (None, "", *RunnerChoice.values):
        raise ValidationError(
            {"runner": f"Runner “{runner}” is not one of: {', '.join(RunnerChoice.values)}."}
        )
    if runner == RunnerChoice.CLOUD:
        if wanted:
            raise ValidationError(
                {"runner_labels": "Labels pick self-hosted runners; the Cloud Runner has none."}
            )
        return Route(RunnerKind.CLOUD)
    if runner == RunnerChoice.SELF_HOSTED or wanted:
        return Route(RunnerKind.SELF_HOSTED, tuple(wanted))
    return default_route(config=config, journey=journey)


def journey_runner_set(*, journey: Journey, runner: str, labels: Any) -> Journey:
    """Set the journey's default runner: ``""`` (the workspace's), ``cloud`` or ``self_hosted``
    with ``labels`` (a comma-separated string or a list; only with ``self_hosted``).

    Raises ``ValidationError`` naming the field (``default_runner``, ``default_runner_labels``).
    """
    if runner not in ("", *RunnerChoice.values):
        raise ValidationError(
            {
                "default_runner": f"Runner “{runner}” is not one of: "
                f"{', '.join(RunnerChoice.values)} (or empty for the workspace's default)."
            }
        )
    cleaned = clean_labels(labels, field="default_runner_labels")
    if cleaned and runner != RunnerChoice.SELF_HOSTED:
        raise ValidationError(
            {"default_runner_labels": "Labels pick self-hosted runners: choose Self-hosted."}
        )
    Journey.objects.filter(pk=journey.pk).update(
        default_runner=runner, default_runner_labels=cleaned
    )
    journey.default_runner, journey.default_runner_labels = runner, cleaned
    return journey
