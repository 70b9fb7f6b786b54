"""The self-hosted runner protocol at ``/api/v1/runner/…`` (DESIGN.md section 7).

A runner authenticates with its own token (``Authorization: Bearer rqr_…``, registered on
Admin → Runners), never with a personal API token, and reaches only its own workspace's
self-hosted runs. The work is ``reqflo.runners.protocol``; this module parses and answers.
Refusals are the API's JSON errors: 401 ``token_*``, 409 ``lease_lost`` (stop that run),
409 ``checkpoint_out_of_order`` (the lease holds, the step index is not the next one), 409
``run_timed_out`` (a checkpoint long past the run's deadline), 409 ``stale_boot`` (a process
its runner's restart replaced: stop everything), 400
``invalid_request``, 404 ``not_found``. Runners are not rate-limited per minute: a runner's
claims are bounded by its capacity and its long-poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from reqflo.api.errors import ApiError
from reqflo.api.services import TokenRefused
from reqflo.runners.leases import Lease
from reqflo.runners.models import SelfHostedRunner
from reqflo.runners.protocol import (
    Presence,
    ProtocolError,
    clean_presence,
    runner_checkpoint,
    runner_claim,
    runner_complete,
    runner_heartbeat,
    runner_release,
)
from reqflo.runners.selfhosted import RunnerRefused, runner_authenticate


@dataclass(frozen=True)
class RunnerCaller:
    runner: SelfHostedRunner

    def __str__(self) -> str:
        return f"runner {self.runner.pk}"


class RunnerAuth(HttpBearer):
    """Authenticate a self-hosted runner by its token; refusals are 401 ``token_*``."""

    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        header = str(request.headers.get("Authorization", ""))
        scheme, _, key = header.partition(" ")
        if header and scheme.lower() != "bearer":
            key = header
        return self.authenticate(request, key.strip() if header else None)

    def authenticate(self, request: HttpRequest, token: str | None) -> RunnerCaller:
        try:
            return RunnerCaller(runner_authenticate(key=token))
        except RunnerRefused as refused:
            raise TokenRefused(refused.code, refused.message) from None


router = Router(tags=["self-hosted runners"], auth=RunnerAuth(), throttle=[])


def _runner(request: HttpRequest) -> SelfHostedRunner:
    caller = getattr(request, "auth", None)
    assert isinstance(caller, RunnerCaller), "endpoint reached without RunnerAuth"
    return caller.runner


def _slots(runner: SelfHostedRunner) -> dict[str, int]:
    """What the process may hold: ``slots`` (min of registered ``capacity`` and --capacity)."""
    return {"slots": runner.slots, "capacity": runner.capacity}


def _refusal(error: ProtocolError) -> ApiError:
    return ApiError(error.status, error.code, error.message, issues=error.issues)


class PresenceIn(Schema):
    boot_id: str = Field(description="a new id each time the runner process starts")
    version: str = ""
    hostname: str = ""
    capacity: int | None = Field(None, description="--capacity, if given")
    labels: list[str] = Field(default_factory=list, description="--labels, if given")

    def presence(self) -> Presence:
        return clean_presence(
            boot_id=self.boot_id,
            version=self.version,
            hostname=self.hostname,
            capacity=self.capacity,
            labels=self.labels,
        )


class ClaimIn(PresenceIn):
    wait_seconds: float = Field(20.0, ge=0, le=60, description="long-poll, at most 25 s")
    free_slots: int = Field(1, ge=0, description="claim only with a free slot")


class LeaseIn(Schema):
    run_id: UUID
    token: int
    attempt: int


class HeartbeatIn(PresenceIn):
    leases: list[LeaseIn] = Field(default_factory=list, max_length=1000)
    stopping: bool = False


class WriteIn(Schema):
    token: int
    attempt: int
    boot_id: str = Field(description="the process that claimed the run (its claim's boot_id)")


class CheckpointIn(WriteIn):
    index: int = Field(ge=0)
    evidence: dict[str, Any]
    snapshot: str = Field(description="the engine's RunState.snapshot() as JSON text")
    amended: dict[str, dict[str, Any]] = Field(default_factory=dict)


class CompleteIn(WriteIn):
    # Checked with the body, before the lease: a bad outcome is a bad request whoever sends it.
    outcome: Literal["finished", "cancelled", "error", "timeout"] = Field(
        description="finished, cancelled, error or timeout"
    )
    message: str = ""
    during_step: bool = Field(
        False,
        description="timeout only: the deadline stopped the step after the stored ones between "
        "its retries (that step is not stored)",
    )


class ReleaseIn(WriteIn):
    detail: str = ""


def _lease(run_id: UUID, token: int, attempt: int) -> Lease:
    return Lease(run_id=run_id, token=token, attempt=attempt)


@router.post("/runner/claim", summary="Claim a run (long-poll)")
def claim(request: HttpRequest, payload: ClaimIn) -> dict[str, Any]:
    """Wait up to ``wait_seconds`` for a run routed to this runner; ``{"job": null}`` if none.

    ``retry_after`` (seconds) in an empty answer: the server's long-polls are all taken. A job's
    ``lease.remaining_seconds`` (database clock) and ``waited_seconds``: see docs. Every answer
    has ``slots`` and ``capacity``.
    """
    runner = _runner(request)
    try:
        presence = payload.presence()
        if payload.free_slots < 1:
            return {"job": None, **_slots(runner)}
        claimed = runner_claim(runner=runner, presence=presence, wait_seconds=payload.wait_seconds)
    except ProtocolError as error:
        raise _refusal(error) from None
    if claimed.retry_after is not None:
        # Enough runners already wait in this process: come back after this many seconds.
        return {"job": None, "retry_after": claimed.retry_after, **_slots(runner)}
    return {"job": claimed.job, **_slots(runner)}


@router.post("/runner/heartbeat", summary="Renew every held lease at once")
def heartbeat(request: HttpRequest, payload: HeartbeatIn) -> dict[str, Any]:
    """Renew the leases; each answer is ``renewed``, ``cancelled``, ``timeout`` or ``lost``."""
    runner = _runner(request)
    try:
        leases = [_lease(x.run_id, x.token, x.attempt) for x in payload.leases]
        answers = runner_heartbeat(
            runner=runner, presence=payload.presence(), leases=leases, stopping=payload.stopping
        )
    except ProtocolError as error:
        raise _refusal(error) from None
    return {"leases": answers, **_slots(runner)}


@router.post("/runner/runs/{run_id}/checkpoint", summary="Store one step's result")
def checkpoint(request: HttpRequest, run_id: UUID, payload: CheckpointIn) -> dict[str, Any]:
    try:
        return runner_checkpoint(
            runner=_runner(request),
            run_id=run_id,
            lease=_lease(run_id, payload.token, payload.attempt),
            boot_id=payload.boot_id,
            index=payload.index,
            evidence=payload.evidence,
            snapshot=payload.snapshot,
            amended=payload.amended,
        )
    except ProtocolError as error:
        raise _refusal(error) from None


@router.post("/runner/runs/{run_id}/complete", summary="Finish a run")
def complete(request: HttpRequest, run_id: UUID, payload: CompleteIn) -> dict[str, Any]:
    try:
        status = runner_complete(
            runner=_runner(request),
            run_id=run_id,
            lease=_lease(run_id, payload.token, payload.attempt),
            boot_id=payload.boot_id,
            outcome=payload.outcome,
            message=payload.message,
            during_step=payload.during_step,
        )
    except ProtocolError as error:
        raise _refusal(error) from None
    return {"status": status}


@router.post("/runner/runs/{run_id}/release", summary="Give a run back for immediate requeue")
def release(request: HttpRequest, run_id: UUID, payload: ReleaseIn) -> dict[str, Any]:
    try:
        released = runner_release(
            runner=_runner(request),
            run_id=run_id,
            lease=_lease(run_id, payload.token, payload.attempt),
            boot_id=payload.boot_id,
            detail=payload.detail,
        )
    except ProtocolError as error:
        raise _refusal(error) from None
    return {"released": released}
