from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey
from reqflo.journeys.services import environment_create, journey_create
from tests.journeys import samples

MakeJourney = Callable[..., Journey]


@pytest.fixture
def make_journey(workspace: Workspace, owner: User) -> MakeJourney:
    """Return a function creating a journey (v1, by ``owner``) in ``workspace``."""

    def make(
        name: str = "Checkout flow", *, in_workspace: Workspace | None = None, **kwargs: Any
    ) -> Journey:
        return journey_create(
            workspace=in_workspace or workspace,
            author=owner,
            checked=check_document(samples.document(name, **kwargs)),
        )

    return make


@pytest.fixture
def staging(workspace: Workspace) -> Environment:
    """Return an environment of ``workspace`` that runs can be dispatched to."""
    return environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )
