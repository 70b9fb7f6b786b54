"""Signals the journeys app sends; apps above it connect receivers in their ``AppConfig.ready``."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that renames an environment, with ``workspace``, ``old_name`` and
# ``new_name``: whatever is keyed by the environment's name (secret values) moves with it.
environment_renamed = Signal()

# Sent inside the transaction that archives a journey, environment or case (``instance``), by
# any path (archive, or a delete that archives): whatever runs it by itself (a schedule) stops.
archived = Signal()
