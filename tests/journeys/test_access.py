"""The access matrix: every journeys page and action for owner, editor, viewer, outsider, anonymous.

Outsiders own another workspace: objects of Acme are 404 for them, exactly like ids that do not
exist. Anonymous users are sent to the login page. Viewers read everything and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.editor import state_from_document
from reqflo.journeys.models import Case, Environment, Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney


@dataclass
class Objects:
    journey: Journey
    case: Case
    environment: Environment


@pytest.fixture
def objects(make_journey: MakeJourney, workspace: Workspace, owner: User) -> Objects:
    journey = make_journey()
    services.journey_version_create(
        journey=journey,
        author=owner,
        checked=check_document(samples.edited(journey.head.document, description="2")),
        base_number=1,
    )
    journey.refresh_from_db()
    case = services.case_create(journey=journey, name="Happy path", values={"q": "1"})
    environment = services.environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )
    return Objects(journey, case, environment)


def _editor_post(o: Objects) -> dict[str, str]:
    data = samples.post_data(state_from_document(o.journey.head.document))
    data["journey-description"] = "changed by the matrix"
    return {**data, "base_version": str(o.journey.head_number), "op": "save"}


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    url: Callable[[Objects], str]
    data: Callable[[Objects], dict[str, Any]]
    # Expected status per persona: owner, editor, viewer, outsider (anonymous is always 302).
    statuses: tuple[int, int, int, int]


def _none(o: Objects) -> dict[str, Any]:
    return {}


J = "journeys:"
READ = (200, 200, 200, 404)
EDIT = (302, 302, 403, 404)
OWNER_ONLY = (302, 403, 403, 404)

ACTIONS = [
    Action(
        "editor", "get", lambda o: reverse(J + "journey_editor", args=[o.journey.pk]), _none, READ
    ),
    Action(
        "editor yaml",
        "get",
        lambda o: reverse(J + "journey_editor", args=[o.journey.pk]) + "?view=yaml",
        _none,
        READ,
    ),
    Action(
        "save",
        "post",
        lambda o: reverse(J + "journey_editor", args=[o.journey.pk]),
        _editor_post,
        EDIT,
    ),
    Action(
        "run check",
        "post",
        lambda o: reverse(J + "journey_check", args=[o.journey.pk]),
        lambda o: samples.post_data(state_from_document(o.journey.head.document)),
        (200, 200, 403, 404),
    ),
    Action(
        "suggest",
        "post",
        lambda o: reverse(J + "journey_suggest", args=[o.journey.pk]),
        lambda o: {"suggest_field": "steps-1-request-url", "prefix": ""},
        (200, 200, 403, 404),
    ),
    Action(
        "archive",
        "post",
        lambda o: reverse(J + "journey_archive", args=[o.journey.pk]),
        _none,
        EDIT,
    ),
    Action(
        "history", "get", lambda o: reverse(J + "journey_history", args=[o.journey.pk]), _none, READ
    ),
    Action(
        "version",
        "get",
        lambda o: reverse(J + "version_detail", args=[o.journey.pk, 1]),
        _none,
        READ,
    ),
    Action(
        "export",
        "get",
        lambda o: reverse(J + "version_export", args=[o.journey.pk, 1]),
        _none,
        READ,
    ),
    Action(
        "diff",
        "get",
        lambda o: reverse(J + "version_diff", args=[o.journey.pk]) + "?from=1&to=2",
        _none,
        READ,
    ),
    Action(
        "restore",
        "post",
        lambda o: reverse(J + "version_restore", args=[o.journey.pk, 1]),
        lambda o: {"base_version": "2"},
        EDIT,
    ),
    Action("cases", "get", lambda o: reverse(J + "case_list", args=[o.journey.pk]), _none, READ),
    Action(
        "case create",
        "post",
        lambda o: reverse(J + "case_list", args=[o.journey.pk]),
        lambda o: {"name": "Sad path", "values": "q=2"},
        EDIT,
    ),
    Action(
        "case update",
        "post",
        lambda o: reverse(J + "case_update", args=[o.case.pk]),
        lambda o: {f"{o.case.pk}-name": "Renamed", f"{o.case.pk}-values": "q=3"},
        EDIT,
    ),
    Action(
        "case duplicate",
        "post",
        lambda o: reverse(J + "case_duplicate", args=[o.case.pk]),
        _none,
        EDIT,
    ),
    Action(
        "case archive", "post", lambda o: reverse(J + "case_archive", args=[o.case.pk]), _none, EDIT
    ),
    Action(
        "case delete", "post", lambda o: reverse(J + "case_delete", args=[o.case.pk]), _none, EDIT
    ),
    Action(
        "environment edit page",
        "get",
        lambda o: reverse(J + "environment_edit", args=[o.environment.pk]),
        _none,
        (200, 403, 403, 404),
    ),
    Action(
        "environment edit",
        "post",
        lambda o: reverse(J + "environment_edit", args=[o.environment.pk]),
        lambda o: {"name": "stage", "base_url": "https://stage.example.test", "values": ""},
        OWNER_ONLY,
    ),
    Action(
        "environment archive",
        "post",
        lambda o: reverse(J + "environment_archive", args=[o.environment.pk]),
        _none,
        OWNER_ONLY,
    ),
    Action(
        "environment delete",
        "post",
        lambda o: reverse(J + "environment_delete", args=[o.environment.pk]),
        _none,
        OWNER_ONLY,
    ),
]
PERSONAS = ("owner", "editor", "viewer", "outsider")


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
@pytest.mark.parametrize("persona", PERSONAS)
def test_object_pages_and_actions(
    client_as: ClientAs, objects: Objects, action: Action, persona: str
) -> None:
    client = client_as(persona)
    url = action.url(objects)
    response = getattr(client, action.method)(url, action.data(objects))
    assert response.status_code == action.statuses[PERSONAS.index(persona)]
    if response.status_code in (403, 404):
        # Nothing changed: the journey still has its two versions and the case its name.
        objects.journey.refresh_from_db()
        assert objects.journey.head_number == 2
        assert objects.journey.archived is False
        assert Case.objects.filter(pk=objects.case.pk, name="Happy path", archived=False).exists()
        assert Environment.objects.filter(pk=objects.environment.pk, name="staging").exists()


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_anonymous_is_sent_to_login(client_as: ClientAs, objects: Objects, action: Action) -> None:
    response = getattr(client_as("anonymous"), action.method)(
        action.url(objects), action.data(objects)
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Workspace-level pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_journey_list_access(
    client_as: ClientAs, objects: Objects, persona: str, status: int
) -> None:
    response = client_as(persona).get(reverse("journeys:journey_list"))
    assert response.status_code == status
    html = response.content.decode()
    if persona == "outsider":
        assert "Checkout flow" not in html  # their own workspace's list, never Acme's
    elif persona != "anonymous":
        assert "Checkout flow" in html


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 403), ("outsider", 200), ("anonymous", 302)],
)
def test_journey_create_page_access(client_as: ClientAs, persona: str, status: int) -> None:
    assert client_as(persona).get(reverse("journeys:journey_create")).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("anonymous", 302)],
)
def test_journey_create_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int
) -> None:
    response = client_as(persona).post(
        reverse("journeys:journey_create"), {"source": "blank", "name": "Fresh"}
    )
    assert response.status_code == status
    assert Journey.objects.filter(workspace=workspace, name="Fresh").exists() == (
        persona in ("owner", "editor")
    )


def test_outsider_creates_journeys_in_their_own_workspace(
    client_as: ClientAs, workspace: Workspace, other_workspace: Workspace
) -> None:
    client_as("outsider").post(reverse("journeys:journey_create"), {"source": "blank", "name": "X"})
    assert Journey.objects.get(name="X").workspace == other_workspace


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_environment_list_access(
    client_as: ClientAs, objects: Objects, persona: str, status: int
) -> None:
    response = client_as(persona).get(reverse("journeys:environment_list"))
    assert response.status_code == status
    html = response.content.decode()
    if persona == "outsider":
        assert "staging.example.test" not in html
    elif persona != "anonymous":
        assert "staging.example.test" in html
        assert ("Create environment" in html) == (persona == "owner")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 403), ("viewer", 403), ("anonymous", 302)],
)
def test_environment_create_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int
) -> None:
    response = client_as(persona).post(
        reverse("journeys:environment_list"),
        {"name": "prod", "base_url": "https://prod.example.test", "values": ""},
    )
    assert response.status_code == status
    assert Environment.objects.filter(workspace=workspace, name="prod").exists() == (
        persona == "owner"
    )
