"""Shared fixtures: one workspace ("Acme") seen by five personas, used by every app's tests.

- ``owner``, ``editor``, ``viewer``: members of ``workspace`` with that role.
- ``outsider``: owner of ``other_workspace`` ("Globex") and of nothing in Acme.
- anonymous: no user at all.

``client_as("viewer")`` returns a Django test client logged in as that persona (or anonymous),
so an access matrix is one parametrized test::

    @pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("outsider", 404), ...])
    def test_page_access(client_as, persona, status): ...
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

import pytest
from django.contrib.auth.models import User
from django.db.backends.postgresql.operations import DatabaseOperations
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from reqflo.core.models import Membership, Role, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.loopback import LoopbackServer, serving

PERSONAS = ("owner", "editor", "viewer", "outsider", "anonymous")

# In CI (`CI=true`, a fresh clone) Hypothesis draws the same examples on every run: whether a
# change lands depends on the change, not on the draw. Local runs keep drawing new examples
# (and replay their failures from .hypothesis/); a failure found there becomes an @example.
# Timing is not what these tests check (bench/ measures speed): on a loaded machine drawing
# examples or running one can take seconds, which must not fail a test (no deadline, no
# too_slow health check).
hypothesis_settings.register_profile(
    "reqflo", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "ci",
    parent=hypothesis_settings.get_profile("reqflo"),
    derandomize=True,
    database=None,
    print_blob=True,
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "reqflo")

_execute_sql_flush = DatabaseOperations.execute_sql_flush


def _flush_as_replica(self: DatabaseOperations, sql_list: list[str]) -> None:
    """Empty the test database between transactional tests past the TRUNCATE guards.

    ``runs_run`` and ``runs_stepresult`` refuse TRUNCATE (``reqflo.runs.triggers``), and
    Django's test flush is a TRUNCATE. As superuser the tests switch user triggers off for the
    flush's own transaction only (``SET LOCAL``); no test's statements run that way.
    """
    _execute_sql_flush(self, ["SET LOCAL session_replication_role = replica", *sql_list])


DatabaseOperations.execute_sql_flush = _flush_as_replica  # type: ignore[method-assign]

ClientAs = Callable[[str], Client]


def _member(workspace: Workspace, role: Role, email: str) -> User:
    user = UserFactory(email=email)
    MembershipFactory(user=user, workspace=workspace, role=role)
    return user


@pytest.fixture
def workspace(db: None) -> Workspace:
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db: None) -> Workspace:
    return WorkspaceFactory(name="Globex", slug="globex")


@pytest.fixture
def owner(workspace: Workspace) -> User:
    return _member(workspace, Role.OWNER, "owner@acme.test")


@pytest.fixture
def editor(workspace: Workspace) -> User:
    return _member(workspace, Role.EDITOR, "editor@acme.test")


@pytest.fixture
def viewer(workspace: Workspace) -> User:
    return _member(workspace, Role.VIEWER, "viewer@acme.test")


@pytest.fixture
def outsider(other_workspace: Workspace) -> User:
    return _member(other_workspace, Role.OWNER, "outsider@globex.test")


@pytest.fixture
def personas(owner: User, editor: User, viewer: User, outsider: User) -> dict[str, User | None]:
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "outsider": outsider,
        "anonymous": None,
    }


@pytest.fixture
def client_as(personas: dict[str, User | None]) -> ClientAs:
    """Return a function giving a fresh test client logged in as the named persona."""

    def make(persona: str) -> Client:
        client = Client()
        user = personas[persona]
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def membership_of(workspace: Workspace) -> Callable[[User], Membership]:
    """Return a function giving a user's membership in ``workspace``."""

    def get(user: User) -> Membership:
        return Membership.objects.get(user=user, workspace=workspace)

    return get


Loopback = Callable[[type[BaseHTTPRequestHandler]], LoopbackServer]


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    """Return a function serving a request handler on loopback for this test (``.url``)."""
    with ExitStack() as stack:
        yield lambda handler: stack.enter_context(serving(LoopbackServer(handler)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (``make test``) keep browser tests on one worker and process tests on one.

    Browser tests share one Chromium per worker, and tests that start Celery workers, gunicorn or
    the whole embedded app are timing-sensitive (3 s leases): each kind runs one test at a time
    while the rest of the suite fills the other workers (``--dist loadgroup``).
    """
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("processes"))
