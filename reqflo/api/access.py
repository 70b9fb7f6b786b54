"""The API token access helper for the tokens page, in core's style (``reqflo.core.access``)."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404

from reqflo.api.models import ApiToken
from reqflo.core.access import get_workspace_object_for_user
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Role


def get_token_for_user(request: AuthedHttpRequest, token_id: UUID) -> ApiToken:
    """Return a token the user may revoke: their own, or any of a workspace they own.

    Another workspace's token, or a token of someone else for a non-owner, answers 404 (its
    existence is not revealed to members who may not act on it).
    """
    token = get_workspace_object_for_user(
        request,
        ApiToken.objects.select_related("workspace", "user"),
        token_id,
        min_role=Role.VIEWER,
        action="manage API tokens",
    )
    membership = request.membership
    if token.user_id != request.user.pk and not (membership and membership.is_owner):
        raise Http404("No such token among yours.")
    return token
