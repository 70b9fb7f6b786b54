"""Run history: a workspace's runs newest first, filtered, one keyset page at a time.

Keyset pagination (no OFFSET): a page is the ``PAGE_SIZE`` runs just older than the cursor, the
(created_at, id) of the last run of the page before, in the index ``run_history`` (workspace,
created_at, id). Page N costs what page 1 costs at any number of runs, and a run dispatched
while someone pages never shifts a row onto the next page twice. (The technique is Markus
Winand's "seek method", use-the-index-luke.com/no-offset.)

A page takes three queries whatever the filters: the runs with their journey, version,
environment, case and user (one join), the step counts of those runs, and one look-ahead row
to know whether an older page exists (fetched with the page, ``PAGE_SIZE + 1``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from reqflo.core.models import Workspace
from reqflo.runs.models import Run, RunStatus, StepResult

PAGE_SIZE = 50


class BadCursor(ValueError):
    """The ``after`` parameter is not a cursor this page wrote; ``str(error)`` says so."""


def encode_cursor(run: Run) -> str:
    """Return the cursor of the page after ``run``: its creation time and id, URL-safe."""
    raw = f"{run.created_at.isoformat()}|{run.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, UUID]:
    """Return (created_at, id) from a cursor; raise ``BadCursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, _, pk = raw.partition("|")
        created = datetime.fromisoformat(moment)
        if created.tzinfo is None:
            raise ValueError("naive time")
        return created, UUID(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(
            f"The page link's 'after' parameter ({text[:40]!r}) is not one this page made: "
            "showing the newest runs instead."
        ) from None


@dataclass(frozen=True)
class RunFilters:
    """The history's filters; every one optional, all of them combined (AND).

    ``since`` and ``until`` are calendar days in the current time zone, both included.
    """

    journey: UUID | None = None
    status: str = ""
    environment: UUID | None = None
    runner_kind: str = ""
    trigger: str = ""
    triggered_by: int | None = None
    tag: str = ""
    since: date | None = None
    until: date | None = None
    batch: UUID | None = None
    # Published CI runs (``CiRunInfo``): the repository and ref exactly, a commit by prefix.
    repository: str = ""
    ref: str = ""
    commit: str = ""

    def q(self) -> Q:
        """Return the filters as one ``Q`` over ``Run``."""
        q = Q()
        if self.journey:
            q &= Q(journey_version__journey_id=self.journey)
        if self.status:
            q &= status_q(self.status)
        if self.environment:
            q &= Q(environment_id=self.environment)
        if self.runner_kind:
            q &= Q(runner_kind=self.runner_kind)
        if self.trigger:
            q &= Q(trigger=self.trigger)
        if self.triggered_by:
            q &= Q(triggered_by_id=self.triggered_by)
        if self.tag:
            q &= Q(journey_version__journey__tags__has_element=self.tag)  # reqflo.core.lookups
        if self.since:
            q &= Q(created_at__gte=_day_start(self.since))
        if self.until:
            q &= Q(created_at__lt=_day_start(self.until + timedelta(days=1)))
        if self.batch:
            q &= Q(batch_id=self.batch)
        if self.repository:
            q &= Q(ci__repository=self.repository)
        if self.ref:
            q &= Q(ci__ref=self.ref)
        if self.commit:
            q &= Q(ci__commit__startswith=self.commit.lower())
        return q


def status_q(status: str) -> Q:
    """Return the runs that *show* ``status``, as pages and the API name it (``Run.shown_status``).

    A run given back to the queue part-way (``Run.waiting``: its row ``running``, held by
    nobody) shows as ``queued``: filtering on ``queued`` finds it, on ``running`` does not.
    """
    waiting = Q(status=RunStatus.RUNNING, lease_holder="")
    if status == RunStatus.QUEUED:
        return Q(status=status) | waiting
    if status == RunStatus.RUNNING:
        return Q(status=status) & ~waiting
    return Q(status=status)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class HistoryRow:
    """One run of the history with its passed and failed (or error) step counts."""

    run: Run
    passed_steps: int = 0
    failed_steps: int = 0

    @property
    def duration_seconds(self) -> float | None:
        run = self.run
        if run.started_at is None:
            return None
        end = run.finished_at or timezone.now()
        return (end - run.started_at).total_seconds()


@dataclass
class HistoryPage:
    rows: list[HistoryRow]
    next_cursor: str | None


def _count_steps(*statuses: str) -> Coalesce:
    counted = (
        StepResult.objects.filter(run_id=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("run_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def history_queryset(*, workspace: Workspace, filters: RunFilters) -> QuerySet[Run]:
    """Return the workspace's runs matching ``filters``, newest first, with what a row shows.

    The step counts come in the same statement (a correlated subquery per shown row), so a
    page costs the same number of queries however many rows, filters or results it has.
    """
    return (
        Run.objects.filter(workspace=workspace)
        .filter(filters.q())
        .select_related(
            "journey_version__journey", "environment", "case", "triggered_by", "batch", "ci"
        )
        .annotate(passed_steps=_count_steps("passed"), failed_steps=_count_steps("failed", "error"))
        .order_by("-created_at", "-id")
    )


def history_page(
    *, workspace: Workspace, filters: RunFilters, after: str = "", size: int = PAGE_SIZE
) -> HistoryPage:
    """Return the page of runs older than the cursor ``after`` (the newest without one).

    One query, whatever the filters or how many rows match. Raises ``BadCursor`` for a cursor
    this module did not write.
    """
    runs = history_queryset(workspace=workspace, filters=filters)
    if after:
        created, pk = decode_cursor(after)
        # The first term bounds the index range scan; the second breaks ties by id.
        runs = runs.filter(Q(created_at__lte=created) & (Q(created_at__lt=created) | Q(id__lt=pk)))
    found: list[Any] = list(runs[: size + 1])
    page, more = found[:size], len(found) > size
    return HistoryPage(
        rows=[HistoryRow(run, run.passed_steps, run.failed_steps) for run in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )
