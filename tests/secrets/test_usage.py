"""Which journeys use a secret: recorded when a version is saved, read with one query."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from reqflo.core.models import Workspace
from reqflo.journeys import services as journeys
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey, VersionSecret
from reqflo.secrets import selectors
from reqflo.secrets.models import Secret
from tests.journeys import samples

pytestmark = pytest.mark.django_db


def _document(name: str, *secrets: str) -> dict[str, Any]:
    document = samples.document(name, steps=1)
    headers = {f"X-{i}": "{{ secrets." + secret + " }}" for i, secret in enumerate(secrets)}
    document["journey"]["steps"][0]["request"]["headers"] = headers
    return document


def _journey(workspace: Workspace, author: User, name: str, *secrets: str) -> Journey:
    return journeys.journey_create(
        workspace=workspace, author=author, checked=check_document(_document(name, *secrets))
    )


def test_saving_a_version_records_the_secret_names_it_references(
    workspace: Workspace, editor: User
) -> None:
    journey = _journey(workspace, editor, "Pay", "api_key", "token")
    assert sorted(journey.head.secret_names.values_list("name", flat=True)) == ["api_key", "token"]
    journeys.journey_version_create(
        journey=journey,
        author=editor,
        checked=check_document(_document("Pay", "token")),
        base_number=1,
    )
    journey.refresh_from_db()
    assert list(journey.head.secret_names.values_list("name", flat=True)) == ["token"]


def test_usage_counts_only_latest_versions_in_one_query(
    workspace: Workspace,
    other_workspace: Workspace,
    editor: User,
    owner: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    pay = _journey(workspace, editor, "Pay", "api_key")
    _journey(workspace, editor, "Refund", "api_key", "token")
    _journey(other_workspace, owner, "Theirs", "api_key")
    journeys.journey_version_create(
        journey=pay, author=editor, checked=check_document(_document("Pay")), base_number=1
    )
    with django_assert_num_queries(1):
        counts = selectors.usage_counts(workspace)
    assert counts == {"api_key": 1, "token": 1}
    secret = Secret(workspace=workspace, name="api_key")
    with django_assert_num_queries(1):
        uses = selectors.secret_usage(secret)
    assert [use.label for use in uses] == ["Refund"]


def test_the_migration_records_versions_saved_before_it(workspace: Workspace, editor: User) -> None:
    journey = _journey(workspace, editor, "Pay", "api_key")
    VersionSecret.objects.all().delete()
    backfill = importlib.import_module("reqflo.journeys.migrations.0004_version_secrets_backfill")
    backfill.record_secret_names(apps, None)
    assert list(journey.head.secret_names.values_list("name", flat=True)) == ["api_key"]


@pytest.mark.parametrize("length", [100, 101, 3000])
def test_a_reference_to_a_name_no_secret_can_have_saves_and_is_not_recorded(
    workspace: Workspace, editor: User, length: int
) -> None:
    # Found by a review: a 101-character name made the save a 500 (the column holds 100).
    name = "s" * length
    journey = _journey(workspace, editor, "Long", name, "api_key")
    recorded = set(
        VersionSecret.objects.filter(version=journey.head).values_list("name", flat=True)
    )
    assert recorded == ({name, "api_key"} if length <= 100 else {"api_key"})
