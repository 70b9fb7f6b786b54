"""The workspace-wide audit list: owners filter by secret, event, person, run and date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reqflo.core.models import Role, Workspace
from reqflo.secrets import services
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent
from reqflo.secrets.resolution import secrets_resolve
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("secrets:audit_list")


def rows(response: HttpResponse) -> list[str]:
    """Return the event kind of each audit row in the response, newest first."""
    assert response.status_code == 200
    html = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in html.split('<tr class="audit-')[1:]]


@pytest.fixture
def history(secret: Secret, workspace: Workspace, actor: services.Actor) -> Secret:
    """Acme's log: payments_api_key (created, env_set by owner; used by run_42), github.token
    created by a second owner, and an old deleted secret from last year."""
    secrets_resolve(
        workspace=workspace, names=["payments_api_key"], environment="", run_id="run_42"
    )
    second = UserFactory(email="second@acme.test")
    MembershipFactory(user=second, workspace=workspace, role=Role.OWNER)
    services.secret_create(
        workspace=workspace,
        actor=services.Actor(user=second, ip_address="198.51.100.4"),
        name="github.token",
        value="ghp_audit",
    )
    # A deleted secret's history from a year ago (inserting is what the log allows).
    SecretAuditEvent.objects.create(
        workspace=workspace,
        secret_name="legacy_key",
        kind=AuditKind.DELETED,
        actor_name="former@acme.test",
        at=timezone.now() - dt.timedelta(days=365),
    )
    return secret


def test_everything_newest_first(history: Secret, owner: User, login) -> None:
    assert rows(login(owner).get(URL)) == ["created", "used", "env_set", "created", "deleted"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"secret": "payments_api_key"}, ["used", "env_set", "created"]),
        ({"secret": "legacy_key"}, ["deleted"]),
        ({"kind": "created"}, ["created", "created"]),
        ({"kind": "used"}, ["used"]),
        ({"actor": "second@"}, ["created"]),
        ({"actor": "ACME.TEST"}, ["created", "env_set", "created", "deleted"]),
        ({"run_id": "run_42"}, ["used"]),
        ({"since": str(timezone.now().date())}, ["created", "used", "env_set", "created"]),
        ({"until": str(timezone.now().date() - dt.timedelta(days=1))}, ["deleted"]),
        ({"kind": "created", "actor": "owner@"}, ["created"]),
    ],
)
def test_each_filter_narrows_the_list(
    history: Secret,
    owner: User,
    login: Callable[[User | None], Client],
    query: dict[str, str],
    expected: list[str],
) -> None:
    assert rows(login(owner).get(URL, query)) == expected


def test_deleted_secrets_stay_in_the_secret_filter(history: Secret, owner: User, login) -> None:
    page = login(owner).get(URL).content.decode()
    for name in ("github.token", "legacy_key", "payments_api_key"):
        assert f'<option value="{name}">{name}</option>' in page


def test_htmx_filters_answer_with_the_results_only(history: Secret, owner: User, login) -> None:
    response = login(owner).get(URL, {"kind": "used"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-results">')
    assert "run run_42" in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"secret": "nope"}, "Select a valid choice. nope is not one of the available choices."),
        ({"since": "2026-02-02", "until": "2026-02-01"}, "“To” is before “From”."),
    ],
)
def test_bad_filters_are_explained_and_the_full_list_shown(
    history: Secret, owner: User, login, query: dict[str, str], message: str
) -> None:
    response = login(owner).get(URL, query)
    assert message in response.content.decode()
    assert len(rows(response)) == 5


def test_pages_hold_fifty_entries_and_keep_the_filters(
    workspace: Workspace, owner: User, login
) -> None:
    SecretAuditEvent.objects.bulk_create(
        SecretAuditEvent(
            workspace=workspace, secret_name="bulk", kind=AuditKind.CREATED, actor_name="x"
        )
        for _ in range(60)
    )
    client = login(owner)
    first = client.get(URL, {"kind": "created"})
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert "?kind=created&amp;page=2" in first.content.decode()
    assert len(rows(client.get(URL, {"kind": "created", "page": "2"}))) == 10


def test_another_workspaces_entries_never_show(
    history: Secret, outsider: User, other_workspace: Workspace, login
) -> None:
    response = login(outsider).get(URL)
    assert rows(response) == []
    assert "payments_api_key" not in response.content.decode()
