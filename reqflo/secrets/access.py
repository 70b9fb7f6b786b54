"""The secret access helper, in core's style (``reqflo.core.access``); move it there if wanted."""

from __future__ import annotations

from uuid import UUID

from reqflo.core.access import get_workspace_object_for_user
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Role
from reqflo.secrets.models import Secret


def get_secret_for_user(
    request: AuthedHttpRequest, secret_id: UUID, *, min_role: Role = Role.VIEWER
) -> Secret:
    """Return the secret if the user may see it with ``min_role``; 404 outside their workspaces."""
    return get_workspace_object_for_user(
        request,
        Secret.objects.select_related("workspace", "created_by", "changed_by"),
        secret_id,
        min_role=min_role,
        action="manage secrets",
    )
