"""Read a workspace's Cloud Runner settings, creating the defaults on first use."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from reqflo.core.models import Workspace
from reqflo.engine.egress import EgressTransport
from reqflo.runners.models import RunnerConfig


def runner_config_for(*, workspace_id: UUID) -> RunnerConfig:
    """Return the workspace's runner config; a workspace nobody configured gets the defaults."""
    config = RunnerConfig.objects.filter(workspace_id=workspace_id).first()
    if config is not None:
        return config
    try:
        with transaction.atomic():
            return RunnerConfig.objects.create(workspace_id=workspace_id)
    except IntegrityError:
        # A concurrent first use created it.
        return RunnerConfig.objects.get(workspace_id=workspace_id)


def workspace_transport(workspace: Workspace) -> EgressTransport:
    """Return a transport under the workspace's egress policy (the import page fetches with it)."""
    config = runner_config_for(workspace_id=workspace.pk)
    allow_private: bool = settings.REQFLO_EGRESS_ALLOW_PRIVATE
    return EgressTransport(allow=config.egress_allow_hosts, allow_private=allow_private)
