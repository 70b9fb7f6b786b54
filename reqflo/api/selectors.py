"""Reads for the API tokens page and the API's run history (keyset pages)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from reqflo.api.models import ApiToken
from reqflo.core.models import Workspace
from reqflo.runs.history import status_q
from reqflo.runs.models import Run


def user_tokens(*, user: User, workspace: Workspace) -> QuerySet[ApiToken]:
    """Return ``user``'s tokens for ``workspace``, newest first."""
    return ApiToken.objects.filter(user=user, workspace=workspace).order_by("-created_at")


def workspace_tokens(*, workspace: Workspace) -> QuerySet[ApiToken]:
    """Return every member's tokens for ``workspace`` (what owners oversee), newest first."""
    return (
        ApiToken.objects.filter(workspace=workspace)
        .select_related("user", "revoked_by")
        .order_by("-created_at")
    )


class BadCursor(ValueError):
    """The cursor is not one this API handed out."""


@dataclass(frozen=True)
class RunFilters:
    """Run history filters; empty fields do not filter. ``since``/``until`` bound ``created_at``."""

    journey: str = ""
    status: str = ""
    environment: str = ""
    runner_kind: str = ""
    batch: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    trigger: str = ""
    # Published CI runs: the repository and ref exactly, the commit by prefix.
    repository: str = ""
    ref: str = ""
    commit: str = ""


def encode_cursor(run: Run) -> str:
    return base64.urlsafe_b64encode(f"{run.created_at.isoformat()}|{run.pk}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        created, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(created), UUID(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(f"{cursor!r} is not a cursor from this API") from None


def run_history(
    *, workspace: Workspace, filters: RunFilters, cursor: str = "", limit: int = 25
) -> tuple[list[Run], str | None]:
    """Return up to ``limit`` runs newest first after ``cursor``, and the next page's cursor.

    Keyset pagination on (created_at, id): pages stay stable while new runs arrive, and each
    page is one indexed query however deep. Raises ``BadCursor`` for a cursor not made here.
    """
    runs = Run.objects.filter(workspace=workspace).select_related(
        "journey_version__journey", "artifact", "environment", "case"
    )
    if filters.journey:
        runs = runs.filter(journey_version__journey__slug=filters.journey)
    if filters.status:
        runs = runs.filter(status_q(filters.status))
    if filters.environment:
        runs = runs.filter(environment__name=filters.environment)
    if filters.runner_kind:
        runs = runs.filter(runner_kind=filters.runner_kind)
    if filters.batch:
        runs = runs.filter(batch_id=filters.batch)
    if filters.trigger:
        runs = runs.filter(trigger=filters.trigger)
    if filters.repository:
        runs = runs.filter(ci__repository=filters.repository)
    if filters.ref:
        runs = runs.filter(ci__ref=filters.ref)
    if filters.commit:
        runs = runs.filter(ci__commit__startswith=filters.commit.lower())
    if filters.since:
        runs = runs.filter(created_at__gte=filters.since)
    if filters.until:
        runs = runs.filter(created_at__lt=filters.until)
    if cursor:
        created, pk = _decode_cursor(cursor)
        runs = runs.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    page = list(
        runs.defer("artifact__plan", "sealed_inputs").order_by("-created_at", "-pk")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    return page, encode_cursor(page[-1]) if more and page else None
