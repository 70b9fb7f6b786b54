"""Bearer-token authentication and the role check of every API endpoint.

A request authenticates with ``Authorization: Bearer rqf_…``; the token acts with its user's
current role in its one workspace. Every endpoint states the role it needs with ``require``;
objects are looked up inside ``caller.workspace`` only, so another workspace's id is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer

from reqflo.api.errors import ApiError
from reqflo.api.models import ApiToken
from reqflo.api.services import api_token_authenticate
from reqflo.core.models import Membership, Role, Workspace
from reqflo.core.throttle import client_address


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token, its user, workspace and the user's membership there."""

    token: ApiToken
    membership: Membership

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def workspace(self) -> Workspace:
        return self.membership.workspace


class TokenAuth(HttpBearer):
    """Authenticate with an API token; refusals raise ``TokenRefused`` with a stable code."""

    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        header = str(request.headers.get("Authorization", ""))
        scheme, _, key = header.partition(" ")
        if header and scheme.lower() != "bearer":
            key = header  # a bare token, or another scheme: judged as a malformed token
        return self.authenticate(request, key.strip() if header else None)

    def authenticate(self, request: HttpRequest, token: str | None) -> Caller:
        api_token, membership = api_token_authenticate(key=token, address=client_address(request))
        return Caller(token=api_token, membership=membership)


def caller_of(request: HttpRequest) -> Caller:
    caller = getattr(request, "auth", None)
    assert isinstance(caller, Caller), "endpoint reached without TokenAuth"
    return caller


def require(request: HttpRequest, minimum: Role, *, action: str) -> Caller:
    """Return the caller if their role is ``minimum`` or above; else a 403 ``role_required``."""
    caller = caller_of(request)
    if not caller.membership.has_role(minimum):
        raise ApiError(
            403,
            "role_required",
            f"You need the {minimum.label.lower()} role to {action} "
            f"(your role in {caller.workspace.name} is {caller.membership.role}).",
        )
    return caller
