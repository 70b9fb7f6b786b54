"""Access helpers for journeys, cases and environments, built on ``reqflo.core.access``.

Each returns the object or raises 404 (another workspace's object, or none) or 403 (role too
low), and is called first in every view.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404

from reqflo.core.access import get_workspace_object_for_user
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Role
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion


def get_journey_for_user(
    request: AuthedHttpRequest, journey_id: UUID, *, min_role: Role = Role.VIEWER
) -> Journey:
    """Return the journey if the user may see it with ``min_role``."""
    return get_workspace_object_for_user(
        request,
        Journey.objects.select_related("workspace"),
        journey_id,
        min_role=min_role,
        action="edit journeys",
    )


def get_version_for_user(
    request: AuthedHttpRequest, journey_id: UUID, number: int, *, min_role: Role = Role.VIEWER
) -> JourneyVersion:
    """Return version ``number`` of a journey the user may see with ``min_role``."""
    journey = get_journey_for_user(request, journey_id, min_role=min_role)
    version = (
        JourneyVersion.objects.filter(journey=journey, number=number)
        .select_related("author")
        .first()
    )
    if version is None:
        raise Http404(f"This journey has no version {number}.")
    version.journey = journey
    return version


def get_case_for_user(
    request: AuthedHttpRequest, case_id: UUID, *, min_role: Role = Role.VIEWER
) -> Case:
    """Return the case if the user may see its journey with ``min_role``."""
    case = Case.objects.select_related("journey").filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case.")
    case.journey = get_journey_for_user(request, case.journey_id, min_role=min_role)
    return case


def get_environment_for_user(
    request: AuthedHttpRequest, environment_id: UUID, *, min_role: Role = Role.VIEWER
) -> Environment:
    """Return the environment if the user may see it with ``min_role`` (owners manage them)."""
    return get_workspace_object_for_user(
        request,
        Environment.objects.all(),
        environment_id,
        min_role=min_role,
        action="manage environments",
    )
