from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from reqflo.core.models import Membership, Role, Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey
from reqflo.journeys.services import journey_create
from tests.journeys import samples


@pytest.fixture
def team(db: None) -> Workspace:
    """Return a workspace with an owner, for service tests that need no HTTP personas."""
    workspace = Workspace.objects.create(name="Team", slug="team")
    author = User.objects.create_user("author@example.com", "author@example.com", "pw")
    Membership.objects.create(user=author, workspace=workspace, role=Role.OWNER)
    return workspace


@pytest.fixture
def author(team: Workspace) -> User:
    return User.objects.get(username="author@example.com")


@pytest.fixture
def make_journey(team: Workspace, author: User) -> Any:
    """Return a function creating a journey (v1) in ``team`` from a sample document."""

    def make(name: str = "Checkout flow", **kwargs: Any) -> Journey:
        return journey_create(
            workspace=team, author=author, checked=check_document(samples.document(name, **kwargs))
        )

    return make
