"""API endpoints for journeys, versions, artifacts, cases and environments.

Reads need the viewer role, pushing a new version the editor role. Journeys are addressed by
slug within the token's workspace; another workspace's slug is simply not found.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from reqflo.api.auth import require
from reqflo.api.errors import ApiError, issue_dicts
from reqflo.api.schemas import (
    ArtifactOut,
    CaseOut,
    EnvironmentOut,
    ErrorOut,
    JourneyOut,
    JourneyRunnerIn,
    PushIn,
    PushOut,
    VersionDetailOut,
    VersionOut,
)
from reqflo.core.models import Role, Workspace
from reqflo.engine import DefinitionError, numbers
from reqflo.journeys import selectors as journey_selectors
from reqflo.journeys import services as journey_services
from reqflo.journeys.documents import check_document, check_text
from reqflo.journeys.models import Journey, JourneyVersion
from reqflo.runners.labels import journey_runner_set

router = Router(tags=["journeys"])

ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    429: ErrorOut,
    500: ErrorOut,
}


def journey_by_slug(workspace: Workspace, slug: str) -> Journey:
    """Return the workspace's journey ``slug``, or raise a 404 ``not_found``."""
    journey = Journey.objects.filter(workspace=workspace, slug=slug).select_related("head").first()
    if journey is None:
        raise ApiError(404, "not_found", f"No journey with slug {slug!r} in {workspace.name}.")
    return journey


def version_of(journey: Journey, number: int | None) -> JourneyVersion:
    """Return version ``number`` of the journey (its latest when None), or raise 404."""
    if number is None:
        if journey.head is None:
            raise ApiError(404, "not_found", f"The journey {journey.slug!r} has no version yet.")
        return journey.head
    version = journey_selectors.version_get(journey=journey, number=number)
    if version is None:
        raise ApiError(
            404,
            "not_found",
            f"The journey {journey.slug!r} has no v{number} (latest is v{journey.head_number}).",
        )
    return version


def _journey_out(journey: Journey) -> dict[str, Any]:
    return {
        "slug": journey.slug,
        "name": journey.name,
        "description": journey.description,
        "tags": list(journey.tags or []),
        "latest_version": journey.head_number,
        "archived": journey.archived,
        "updated_at": journey.updated_at,
        "default_runner": journey.default_runner,
        "default_runner_labels": list(journey.default_runner_labels or []),
    }


def _version_out(version: JourneyVersion) -> dict[str, Any]:
    author = version.author
    return {
        "number": version.number,
        "message": version.message,
        "author": (author.email or author.get_username()) if author else None,
        "created_at": version.created_at,
        "digest": version.digest,
    }


@router.get("/journeys", response={200: list[JourneyOut], **ERRORS}, summary="List journeys")
def journey_list(
    request: HttpRequest, tag: str = "", search: str = "", archived: bool = False
) -> list[dict[str, Any]]:
    """List the workspace's journeys, optionally with a tag or matching a search term."""
    caller = require(request, Role.VIEWER, action="read journeys")
    filters = journey_selectors.JourneyFilters(search=search, tag=tag, archived=archived)
    journeys = journey_selectors.journey_list(workspace=caller.workspace, filters=filters)
    return [_journey_out(journey) for journey in journeys.order_by("slug")]


@router.get("/journeys/{slug}", response={200: JourneyOut, **ERRORS}, summary="Get a journey")
def journey_get(request: HttpRequest, slug: str) -> dict[str, Any]:
    caller = require(request, Role.VIEWER, action="read journeys")
    return _journey_out(journey_by_slug(caller.workspace, slug))


@router.post(
    "/journeys/{slug}/runner",
    response={200: JourneyOut, **ERRORS},
    summary="Set the journey's default runner",
)
def journey_runner(request: HttpRequest, slug: str, payload: JourneyRunnerIn) -> dict[str, Any]:
    """Set where the journey's runs go when a dispatch names no runner (editor role).

    A dispatch's ``runner``/``runner_labels`` win, then this, then the workspace's default.
    400 ``invalid_request`` names the field (an unknown runner, a bad label, labels without
    ``self_hosted``).
    """
    caller = require(request, Role.EDITOR, action="set a journey's default runner")
    journey = journey_by_slug(caller.workspace, slug)
    journey_runner_set(
        journey=journey, runner=payload.default_runner, labels=payload.default_runner_labels
    )
    return _journey_out(journey)


@router.get(
    "/journeys/{slug}/versions",
    response={200: list[VersionOut], **ERRORS},
    summary="List a journey's versions, newest first",
)
def version_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    caller = require(request, Role.VIEWER, action="read journeys")
    journey = journey_by_slug(caller.workspace, slug)
    return [_version_out(v) for v in journey_selectors.version_list(journey=journey)]


@router.get(
    "/journeys/{slug}/versions/{number}",
    response={200: VersionDetailOut, **ERRORS},
    summary="Get one version with its definition",
)
def version_get(request: HttpRequest, slug: str, number: int) -> dict[str, Any]:
    caller = require(request, Role.VIEWER, action="read journeys")
    version = version_of(journey_by_slug(caller.workspace, slug), number)
    return {**_version_out(version), "journey": slug, "document": version.document}


@router.get(
    "/journeys/{slug}/artifact",
    response={200: ArtifactOut, **ERRORS},
    summary="Get the build artifact of a version (the latest by default)",
)
def artifact_get(request: HttpRequest, slug: str, version: int | None = None) -> dict[str, Any]:
    """Return the compiled plan that ``reqflo run SLUG`` executes locally.

    Compiled on first use; an artifact holds references to secrets, never their values.
    """
    caller = require(request, Role.VIEWER, action="read journeys")
    chosen = version_of(journey_by_slug(caller.workspace, slug), version)
    try:
        artifact = journey_services.build_artifact_for_version(version=chosen)
    except DefinitionError as error:
        raise ApiError(
            400,
            "invalid_definition",
            f"v{chosen.number} of {slug!r} does not compile.",
            issues=issue_dicts(error.issues),
        ) from None
    return {
        "artifact_id": artifact.artifact_id,
        "journey": slug,
        "version": chosen.number,
        "plan": numbers.loads(artifact.plan),
    }


@router.get(
    "/journeys/{slug}/cases",
    response={200: list[CaseOut], **ERRORS},
    summary="List a journey's cases",
)
def case_list(request: HttpRequest, slug: str, archived: bool = False) -> list[Any]:
    caller = require(request, Role.VIEWER, action="read cases")
    journey = journey_by_slug(caller.workspace, slug)
    return list(journey_selectors.case_list(journey=journey, archived=archived))


@router.get(
    "/environments", response={200: list[EnvironmentOut], **ERRORS}, summary="List environments"
)
def environment_list(request: HttpRequest, archived: bool = False) -> list[Any]:
    caller = require(request, Role.VIEWER, action="read environments")
    return list(journey_selectors.environment_list(workspace=caller.workspace, archived=archived))


@router.post(
    "/journeys",
    response={200: PushOut, 201: PushOut, 409: ErrorOut, **ERRORS},
    summary="Push a definition: a new journey, or a new version of the journey with its slug",
)
def journey_push(request: HttpRequest, payload: PushIn) -> Status[dict[str, Any]]:
    """Create a journey (201), a new version of it (201), or nothing when unchanged (200).

    Definition errors answer 400 ``invalid_definition`` with the engine's path-precise issues
    (``steps[1].request.url: …``); a ``base_version`` older than the latest answers 409.
    Pushing the same definition again creates nothing, so a retried push is harmless.
    """
    caller = require(request, Role.EDITOR, action="push journey versions")
    if (payload.text is None) == (payload.document is None):
        raise ApiError(400, "invalid_request", "Send exactly one of 'text' or 'document'.")
    try:
        if payload.text is not None:
            checked = check_text(payload.text, source="<push>")
        else:
            checked = check_document(payload.document)
        slug = checked.definition.slug
        journey = Journey.objects.filter(workspace=caller.workspace, slug=slug).first()
        if journey is None:
            journey = journey_services.journey_create(
                workspace=caller.workspace,
                author=caller.user,
                checked=checked,
                message=payload.message or "Pushed",
            )
            return Status(201, _push_out(journey, created=True, journey_created=True))
        version = journey_services.journey_version_create(
            journey=journey,
            author=caller.user,
            checked=checked,
            base_number=payload.base_version or journey.head_number,
            message=payload.message or "Pushed",
        )
    except DefinitionError as error:
        raise ApiError(
            400,
            "invalid_definition",
            "The journey definition has errors: " + "; ".join(str(i) for i in error.issues[:5]),
            issues=issue_dicts(error.issues),
        ) from None
    except journey_services.VersionConflict as conflict:
        raise ApiError(409, "version_conflict", str(conflict)) from None
    journey.refresh_from_db()
    pushed = _push_out(journey, created=version is not None, journey_created=False)
    return Status(201 if version else 200, pushed)


def _push_out(journey: Journey, *, created: bool, journey_created: bool) -> dict[str, Any]:
    return {
        "journey": journey.slug,
        "version": journey.head_number,
        "created": created,
        "journey_created": journey_created,
    }
