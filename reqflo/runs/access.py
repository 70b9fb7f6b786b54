"""The run and batch access helpers, in core's style (``reqflo.core.access``)."""

from __future__ import annotations

from uuid import UUID

from reqflo.core.access import get_workspace_object_for_user
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.models import Role
from reqflo.runs.models import Run, RunBatch


def get_run_for_user(
    request: AuthedHttpRequest,
    run_id: UUID,
    *,
    min_role: Role = Role.VIEWER,
    action: str = "act on runs",
) -> Run:
    """Return the run if the user may use it with ``min_role``; 404 outside their workspaces."""
    return get_workspace_object_for_user(
        request, Run.objects.select_related("workspace"), run_id, min_role=min_role, action=action
    )


def get_batch_for_user(
    request: AuthedHttpRequest,
    batch_id: UUID,
    *,
    min_role: Role = Role.VIEWER,
    action: str = "act on batches",
) -> RunBatch:
    """Return the batch if the user may use it with ``min_role``; 404 outside their workspaces."""
    return get_workspace_object_for_user(
        request,
        RunBatch.objects.select_related(
            "workspace", "journey_version__journey", "environment", "case", "triggered_by"
        ),
        batch_id,
        min_role=min_role,
        action=action,
    )
