"""API fixtures: a token per persona, and a client that sends it.

``token_for("editor")`` creates a live token for that persona in its workspace (the outsider's
is for Globex); ``api_client(key)`` is a Django test client sending ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from reqflo.api.services import api_token_create
from reqflo.core.models import Membership

TokenFor = Callable[[str], str]


class ApiClient:
    """Calls ``/api/v1/…`` with a token (or with the raw ``Authorization`` header given)."""

    def __init__(self, authorization: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": authorization} if authorization is not None else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            body if body is not None else {},
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def token_for(personas: dict[str, User | None]) -> TokenFor:
    def make(persona: str) -> str:
        user = personas[persona]
        assert user is not None
        membership = Membership.objects.filter(user=user).select_related("workspace").first()
        assert membership is not None
        return api_token_create(user=user, workspace=membership.workspace, name=persona).key

    return make


@pytest.fixture
def api_as(token_for: TokenFor) -> Callable[[str], ApiClient]:
    """Return a client with a live token of the persona (anonymous: no header at all)."""

    def make(persona: str) -> ApiClient:
        if persona == "anonymous":
            return ApiClient(None)
        return ApiClient(f"Bearer {token_for(persona)}")

    return make
