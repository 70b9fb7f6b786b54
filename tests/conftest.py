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

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reqflo.core.models import Membership, Role, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

PERSONAS = ("owner", "editor", "viewer", "outsider", "anonymous")

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
