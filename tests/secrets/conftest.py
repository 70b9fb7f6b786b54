"""Fixtures for the secret store: a workspace, one user per persona, a real secret value.

Persona fixtures are local until the shared ones in tests/conftest.py exist.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reqflo.core.models import Membership, Role, Workspace
from reqflo.secrets import services
from reqflo.secrets.models import Secret

# A realistic credential that the tests search for everywhere it must never appear.
SECRET_VALUE = "sk_live_Q7vX2pL9mZ4rT8wK1nB6cY3h"
STAGING_VALUE = "stg_Hq83JdLw02PzXa9Vb71Ke5Rt"


def make_user(email: str) -> User:
    return User.objects.create_user(username=email, email=email, password="pw-for-tests-only")


def add_member(workspace: Workspace, email: str, role: Role) -> User:
    user = make_user(email)
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return user


@pytest.fixture
def workspace(db: None) -> Workspace:
    return Workspace.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db: None) -> Workspace:
    return Workspace.objects.create(name="Globex", slug="globex")


@pytest.fixture
def owner(workspace: Workspace) -> User:
    return add_member(workspace, "owner@acme.test", Role.OWNER)


@pytest.fixture
def editor(workspace: Workspace) -> User:
    return add_member(workspace, "editor@acme.test", Role.EDITOR)


@pytest.fixture
def viewer(workspace: Workspace) -> User:
    return add_member(workspace, "viewer@acme.test", Role.VIEWER)


@pytest.fixture
def outsider(other_workspace: Workspace) -> User:
    """An owner of another workspace: sees nothing of Acme's."""
    return add_member(other_workspace, "owner@globex.test", Role.OWNER)


@pytest.fixture
def login() -> Callable[[User | None], Client]:
    """Return a client signed in as the user (anonymous for ``None``)."""

    def make(user: User | None) -> Client:
        client = Client(REMOTE_ADDR="203.0.113.7")
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def actor(owner: User) -> services.Actor:
    return services.Actor(user=owner, ip_address="203.0.113.7")


@pytest.fixture
def secret(workspace: Workspace, actor: services.Actor) -> Secret:
    """``payments_api_key`` with a default value and a staging value."""
    created = services.secret_create(
        workspace=workspace,
        actor=actor,
        name="payments_api_key",
        description="Payments sandbox key",
        value=SECRET_VALUE,
    )
    services.secret_environment_value_set(
        secret=created, actor=actor, environment="staging", value=STAGING_VALUE
    )
    return created
