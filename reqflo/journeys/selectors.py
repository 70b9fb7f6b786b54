"""Read paths for journeys: lists with filters, version history, cases, environments.

Every query here has a fixed number of SQL statements however many journeys, steps or versions
there are; ``tests/journeys/test_query_counts.py`` and ``bench/journeys_pages.py`` hold that line.
Run facts (last status, run counts) come from the runs app through ``hooks``: correlated
subqueries inside the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from reqflo.core.models import Workspace
from reqflo.journeys import hooks
from reqflo.journeys.models import (
    Case,
    Environment,
    Journey,
    JourneyVersion,
    VersionImportReport,
)


@dataclass(frozen=True, slots=True)
class JourneyFilters:
    """The journeys list's filters; empty fields do not filter."""

    search: str = ""
    tag: str = ""
    archived: bool = False


def journey_list(*, workspace: Workspace, filters: JourneyFilters) -> QuerySet[Journey]:
    """Return the workspace's journeys matching the filters, with their head version's author.

    With the runs app installed each journey carries ``last_run_status`` and ``last_run_at``
    (see ``reqflo.runs.selectors``). Archived journeys are shown only when ``filters.archived``
    asks for them (and then only them).
    """
    journeys = hooks.annotate_journeys(
        Journey.objects.filter(workspace=workspace, archived=filters.archived)
        .select_related("head__author")
        .defer("head__definition")
    )
    if filters.search.strip():
        term = filters.search.strip()
        journeys = journeys.filter(
            Q(name__icontains=term) | Q(slug__icontains=term) | Q(description__icontains=term)
        )
    if filters.tag:
        journeys = journeys.filter(tags__has_element=filters.tag)  # reqflo.core.lookups
    return journeys


def journey_rows(*, workspace: Workspace, filters: JourneyFilters) -> list[Journey]:
    """The journeys list's rows: ``journey_list`` read, then each row given the facts other apps
    compute after reading (``hooks.register_journey_rows``; the schedules app sets
    ``journey.monitor``)."""
    return hooks.decorate_journeys(list(journey_list(workspace=workspace, filters=filters)))


def free_journey_slug(*, workspace: Workspace, slug: str) -> str:
    """Return ``slug``, or ``slug-2``, ``slug-3``… whichever no journey of the workspace uses."""
    taken = set(
        Journey.objects.filter(workspace=workspace, slug__startswith=slug).values_list(
            "slug", flat=True
        )
    )
    candidate, counter = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{counter}"
        counter += 1
    return candidate


def workspace_tags(workspace: Workspace) -> list[str]:
    """Return every tag used by a journey of the workspace, sorted."""
    tags: set[str] = set()
    for journey_tags in Journey.objects.filter(workspace=workspace).values_list("tags", flat=True):
        tags.update(str(tag) for tag in journey_tags or [])
    return sorted(tags, key=str.lower)


def version_list(*, journey: Journey) -> QuerySet[JourneyVersion]:
    """Return the journey's versions, newest first, without loading their definitions.

    With the runs app installed each version carries ``run_count`` and ``last_run_status``.
    """
    return hooks.annotate_versions(
        JourneyVersion.objects.filter(journey=journey)
        .select_related("author")
        .defer("definition")
        .order_by("-number")
    )


def version_get(*, journey: Journey, number: int) -> JourneyVersion | None:
    """Return version ``number`` of the journey, or None."""
    return (
        JourneyVersion.objects.filter(journey=journey, number=number)
        .select_related("author")
        .first()
    )


def case_list(*, journey: Journey, archived: bool | None = None) -> QuerySet[Case]:
    """Return the journey's cases; ``archived`` None means all of them."""
    cases = Case.objects.filter(journey=journey)
    if archived is not None:
        cases = cases.filter(archived=archived)
    return cases.order_by("archived", "name")


def environment_list(
    *, workspace: Workspace, archived: bool | None = False
) -> QuerySet[Environment]:
    """Return the workspace's environments; by default the ones offered for new runs."""
    environments = Environment.objects.filter(workspace=workspace)
    if archived is not None:
        environments = environments.filter(archived=archived)
    return environments.order_by("archived", "name")


def version_import_report(*, version: JourneyVersion) -> str | None:
    """Return the whole import report kept with `version`, or None when no import made it."""
    return (
        VersionImportReport.objects.filter(version=version).values_list("text", flat=True).first()
    )
