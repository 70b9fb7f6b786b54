"""Pages of a 200-step journey with 50 versions run a fixed, small number of SQL queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.editor import state_from_document
from reqflo.journeys.models import Journey
from tests.conftest import ClientAs
from tests.journeys import samples

# Session, user, membership and workspace lookups, plus the page's own few queries.
MAX_QUERIES = 10


@pytest.fixture
def big_journey(workspace: Workspace, owner: User, editor: User, viewer: User) -> Journey:
    document = samples.document("Big", steps=200)
    journey = services.journey_create(
        workspace=workspace, author=owner, checked=check_document(document)
    )
    for number in range(2, 51):
        document = samples.edited(document, description=f"revision {number}")
        services.journey_version_create(
            journey=journey,
            author=editor if number % 2 else owner,
            checked=check_document(document),
            base_number=number - 1,
            message=f"revision {number}",
        )
    journey.refresh_from_db()
    return journey


PAGES: dict[str, Callable[[Journey], str]] = {
    "editor": lambda j: reverse("journeys:journey_editor", args=[j.pk]),
    "yaml": lambda j: reverse("journeys:journey_editor", args=[j.pk]) + "?view=yaml",
    "history": lambda j: reverse("journeys:journey_history", args=[j.pk]),
    "diff": lambda j: reverse("journeys:version_diff", args=[j.pk]) + "?from=1&to=50",
    "version": lambda j: reverse("journeys:version_detail", args=[j.pk, 25]),
    "cases": lambda j: reverse("journeys:case_list", args=[j.pk]),
    "list": lambda j: reverse("journeys:journey_list"),
}


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_big_journey_pages_run_a_bounded_number_of_queries(
    client_as: ClientAs,
    big_journey: Journey,
    django_assert_max_num_queries: Callable[..., Any],
    persona: str,
) -> None:
    client = client_as(persona)
    client.get(reverse("journeys:journey_list"))  # the first request of a session sets it up
    for name, page in PAGES.items():
        with django_assert_max_num_queries(MAX_QUERIES, info=name):
            response = client.get(page(big_journey))
        assert response.status_code == 200, name


def test_history_lists_all_fifty_versions(client_as: ClientAs, big_journey: Journey) -> None:
    html = client_as("viewer").get(reverse("journeys:journey_history", args=[big_journey.pk]))
    assert html.content.decode().count('<tr id="version-') == 50


def test_saving_a_200_step_journey_from_the_form_works_in_bounded_queries(
    client_as: ClientAs,
    big_journey: Journey,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    data = samples.post_data(state_from_document(big_journey.head.document))
    data.update({"base_version": "50", "mode": "form", "op": "save", "steps-199-name": "Last"})
    client = client_as("editor")
    client.get(reverse("journeys:journey_list"))
    with django_assert_max_num_queries(MAX_QUERIES + 6):  # plus the lock, insert and update
        response = client.post(reverse("journeys:journey_editor", args=[big_journey.pk]), data)
    assert response.status_code == 302
    big_journey.refresh_from_db()
    assert big_journey.head_number == 51
