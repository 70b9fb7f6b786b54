"""Fixtures for the secret store: a real secret value, and clients with a known IP address.

Workspaces and personas (owner, editor, viewer, outsider) come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reqflo.core.models import Workspace
from reqflo.journeys.models import Environment
from reqflo.secrets import services
from reqflo.secrets.models import Secret

# A realistic credential that the tests search for everywhere it must never appear.
SECRET_VALUE = "sk_live_Q7vX2pL9mZ4rT8wK1nB6cY3h"
STAGING_VALUE = "stg_Hq83JdLw02PzXa9Vb71Ke5Rt"


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
def environments(workspace: Workspace) -> list[Environment]:
    """Acme's ``staging`` and ``production`` environments."""
    return [
        Environment.objects.create(
            workspace=workspace, name=name, base_url=f"https://{name}.acme.test"
        )
        for name in ("staging", "production")
    ]


@pytest.fixture
def secret(workspace: Workspace, actor: services.Actor, environments: list[Environment]) -> Secret:
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
