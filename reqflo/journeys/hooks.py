"""Extension points of the journeys app, filled by the apps above it in their ``AppConfig.ready``.

Journeys sits below secrets and runs and imports neither (``tests/test_layers.py`` proves it).
What its pages need from them comes through here: the secret names the editor checks
references against, run facts (last run, run counts) annotated onto its querysets, and the
egress transport the import page fetches a URL through. Every
registration is idempotent, since ``ready()`` may run more than once in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from django.db.models import QuerySet

from reqflo.core.models import Workspace
from reqflo.journeys.models import Case, Environment, Journey, JourneyVersion

SecretNames = Callable[[Workspace], frozenset[str]]
JourneyAnnotator = Callable[[QuerySet[Journey]], QuerySet[Journey]]
JourneyRows = Callable[[list[Journey]], None]
VersionAnnotator = Callable[[QuerySet[JourneyVersion]], QuerySet[JourneyVersion]]
ImportTransport = Callable[[Workspace], httpx.BaseTransport]
SendStatuses = Callable[[Journey], dict[str, str]]
# Names the live users of an environment or case ("schedule 'Nightly'"); they stop its delete.
Dependents = Callable[[Case | Environment], list[str]]

Hook = TypeVar("Hook")

_secret_names: list[SecretNames] = []
_journey_annotators: list[JourneyAnnotator] = []
_journey_rows: list[JourneyRows] = []
_version_annotators: list[VersionAnnotator] = []
_import_transports: list[ImportTransport] = []
_send_statuses: list[SendStatuses] = []
_dependents: list[Dependents] = []


def _add(registry: list[Hook], hook: Hook) -> None:
    if hook not in registry:
        registry.append(hook)


def register_secret_names(provider: SecretNames) -> None:
    """Register a function returning the secret names a workspace's journeys may reference."""
    _add(_secret_names, provider)


def register_journey_annotator(annotate: JourneyAnnotator) -> None:
    """Register a function adding columns to the journeys list's queryset (same statement)."""
    _add(_journey_annotators, annotate)


def register_journey_rows(provider: JourneyRows) -> None:
    """Register a function setting attributes on the journeys list's rows once they are read
    (facts computed in Python, such as a monitor's health); a fixed number of statements."""
    _add(_journey_rows, provider)


def decorate_journeys(journeys: list[Journey]) -> list[Journey]:
    for provider in _journey_rows:
        provider(journeys)
    return journeys


def register_version_annotator(annotate: VersionAnnotator) -> None:
    """Register a function adding columns to a journey's version history queryset."""
    _add(_version_annotators, annotate)


def register_import_transport(provider: ImportTransport) -> None:
    """Register the function giving the transport a workspace's URL imports go through."""
    _add(_import_transports, provider)


def register_dependents(provider: Dependents) -> None:
    """Register a function naming what still uses an environment or case (a schedule does)."""
    _add(_dependents, provider)


def dependents(obj: Case | Environment) -> list[str]:
    """Return what still uses ``obj`` by itself ("schedule 'Nightly'"), in the order given."""
    return [name for provider in _dependents for name in provider(obj)]


def register_send_statuses(provider: SendStatuses) -> None:
    """Register the function giving each step id's status in the last Send that ran it."""
    _add(_send_statuses, provider)


def send_statuses(journey: Journey) -> dict[str, str]:
    """Return {step id: status of that step in the last editor Send that ran it}."""
    statuses: dict[str, str] = {}
    for provider in _send_statuses:
        statuses.update(provider(journey))
    return statuses


def import_transport(workspace: Workspace) -> httpx.BaseTransport | None:
    """Return the transport for fetching an import URL, or None when no app provides one
    (then the page fetches nothing: a URL must pass the egress policy)."""
    return _import_transports[-1](workspace) if _import_transports else None


def secret_names(workspace: Workspace) -> frozenset[str]:
    """Return the secret names known in ``workspace`` (none without a secret store)."""
    names: frozenset[str] = frozenset()
    for provider in _secret_names:
        names |= provider(workspace)
    return names


def annotate_journeys(journeys: QuerySet[Journey]) -> QuerySet[Journey]:
    for annotate in _journey_annotators:
        journeys = annotate(journeys)
    return journeys


def annotate_versions(versions: QuerySet[JourneyVersion]) -> QuerySet[JourneyVersion]:
    for annotate in _version_annotators:
        versions = annotate(versions)
    return versions
