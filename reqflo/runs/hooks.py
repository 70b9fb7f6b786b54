"""Extension points of the runs app, filled by the apps above it in their ``AppConfig.ready``.

The Cloud Runner (``reqflo.runners``) keeps a record per attempt at a run (who claimed it,
when, and why the attempt ended); runs sits below it and never imports it. The run page and
the evidence bundle read those records through the reader registered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One lease claim of a run as the run page shows it.

    ``ended_why`` is the machine value (``finished``, ``worker_lost``, ...), ``ended_label``
    its words; both empty while the attempt is in progress. ``holder`` is the raw lease
    holder; pages show ``holder_name`` (a self-hosted runner's name, with ``holder_runner_id``
    and the short ``holder_boot`` id of its process; a cloud worker's name).
    """

    number: int
    holder: str
    claimed_at: datetime
    ended_at: datetime | None
    ended_why: str
    ended_label: str
    detail: str
    holder_name: str = ""
    holder_runner_id: UUID | None = None
    holder_boot: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "holder": self.holder,
            "claimed_at": self.claimed_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_why": self.ended_why or None,
            "detail": self.detail,
        }


AttemptReader = Callable[[UUID], list[AttemptRecord]]

_attempt_readers: list[AttemptReader] = []


def register_attempt_reader(reader: AttemptReader) -> None:
    """Register ``reader(run_id) -> [AttemptRecord]`` (idempotent; ``ready()`` may rerun)."""
    if reader not in _attempt_readers:
        _attempt_readers.append(reader)


def run_attempt_records(run_id: UUID) -> list[AttemptRecord]:
    """Return the run's attempt records from every registered reader, in attempt order."""
    records = [record for reader in _attempt_readers for record in reader(run_id)]
    return sorted(records, key=lambda record: record.number)
