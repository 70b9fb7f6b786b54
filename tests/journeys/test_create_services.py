"""Creating a journey blank or from the sample is a service, not view code."""

from __future__ import annotations

from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.journeys import services


def test_a_blank_journey_has_one_get_step(workspace: Workspace, editor: User) -> None:
    journey = services.journey_create_blank(workspace=workspace, author=editor, name=" Orders ")
    assert (journey.name, journey.slug, journey.head_number) == ("Orders", "orders", 1)
    steps = journey.head.document["journey"]["steps"]
    assert [step["request"]["method"] for step in steps] == ["GET"]
    assert journey.head.message == "Created"


def test_the_sample_twice_takes_the_next_free_slug(workspace: Workspace, editor: User) -> None:
    first = services.journey_create_from_sample(workspace=workspace, author=editor)
    second = services.journey_create_from_sample(workspace=workspace, author=editor)
    assert (first.slug, second.slug) == ("checkout", "checkout-2")
    assert second.name == "Checkout flow (2)"
