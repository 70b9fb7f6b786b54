"""Self-hosted runners: register, rotate and revoke them, and know them by their token.

A runner token is ``rqr_`` followed by 43 URL-safe characters (256 random bits); only its
SHA-256 is stored and the token is shown once, when it is registered or rotated. Every change
is recorded in the runner settings' change log (``RunnerConfigChange``), like the Cloud Runner
settings. Revoking or rotating a runner refuses its next call and releases the runs it holds, so
another runner claims them at once (they resume from their last checkpoint).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from reqflo.core.models import Workspace
from reqflo.runners.labels import clean_labels
from reqflo.runners.leases import Lease, lease_release
from reqflo.runners.models import (
    RUNNER_TOKEN_PREFIX,
    AttemptEnd,
    RunnerConfigChange,
    SelfHostedRunner,
)
from reqflo.runs.models import Run, RunnerKind, RunStatus

RUNNER_TOKEN = re.compile(rf"^{RUNNER_TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}$")
MAX_CAPACITY = 256
CHANGE_FIELD = "self_hosted_runner"


class RunnerRefused(Exception):
    """The runner token does not grant access; ``code`` is the API's stable error code.

    Codes: ``token_missing``, ``token_malformed``, ``token_unknown`` (never issued, or replaced
    by a rotation), ``token_revoked``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedRunnerToken:
    """A runner and its token, which is never readable again."""

    runner: SelfHostedRunner
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str, str]:
    key = RUNNER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return key, _digest(key), key[len(RUNNER_TOKEN_PREFIX) : len(RUNNER_TOKEN_PREFIX) + 6]


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError({"name": "Give the runner a name (where it runs, e.g. vpn-eu-1)."})
    if len(name) > 100:
        raise ValidationError({"name": f"At most 100 characters (got {len(name)})."})
    return name


def _clean_capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({"capacity": "Capacity must be a whole number of runs."})
    if not 1 <= value <= MAX_CAPACITY:
        raise ValidationError({"capacity": f"Capacity must be between 1 and {MAX_CAPACITY}."})
    return int(value)


def _record(workspace: Workspace, by: User | None, old: str | None, new: str | None) -> None:
    RunnerConfigChange.objects.create(
        workspace=workspace, changed_by=by, changes={CHANGE_FIELD: {"old": old, "new": new}}
    )


def _describe(runner: SelfHostedRunner) -> str:
    labels = ", ".join(runner.labels) or "no labels"
    return f"{runner.name} ({labels}; capacity {runner.capacity})"


def runner_register(
    *, workspace: Workspace, by: User, name: str, labels: Any = None, capacity: Any = 4
) -> IssuedRunnerToken:
    """Register a runner in ``workspace``; the caller shows ``key`` once.

    Raises ``ValidationError`` naming the field: a blank or taken name, a bad label, a capacity
    outside 1..256.
    """
    runner = SelfHostedRunner(
        workspace=workspace,
        name=_clean_name(name),
        labels=clean_labels(labels),
        capacity=_clean_capacity(capacity),
        created_by=by,
    )
    key, runner.key_hash, runner.hint = _new_key()
    try:
        with transaction.atomic():
            runner.save(force_insert=True)
            _record(workspace, by, None, f"registered {_describe(runner)}")
    except IntegrityError:
        raise ValidationError(
            {"name": f"A runner named “{runner.name}” is already registered."}
        ) from None
    return IssuedRunnerToken(runner=runner, key=key)


def _release_held(runner: SelfHostedRunner, why: str) -> list[Run]:
    """Release every run the runner holds (any boot of it), for another runner to claim now."""
    held = list(
        Run.objects.filter(
            workspace_id=runner.workspace_id,
            runner_kind=RunnerKind.SELF_HOSTED,
            status=RunStatus.RUNNING,
            lease_holder__startswith=runner.holder_prefix,
        )
    )
    for run in held:
        lease = Lease(run_id=run.pk, token=run.lease_token, attempt=run.attempts)
        lease_release(lease, why=AttemptEnd.RELEASED, detail=why)
    return held


def runner_revoke(*, runner: SelfHostedRunner, by: User) -> SelfHostedRunner:
    """Revoke the runner: its next call is refused and the runs it holds are released now."""
    with transaction.atomic():
        locked = SelfHostedRunner.objects.select_for_update().get(pk=runner.pk)
        if locked.revoked_at is not None:
            return locked
        SelfHostedRunner.objects.filter(pk=locked.pk).update(revoked_at=Now(), revoked_by=by)
        _record(locked.workspace, by, _describe(locked), f"revoked {locked.name}")
        _release_held(locked, f"The runner {locked.name} was revoked by {by.email or by}.")
    return SelfHostedRunner.objects.get(pk=runner.pk)


def runner_rotate(*, runner: SelfHostedRunner, by: User) -> IssuedRunnerToken:
    """Give the runner a new token; the old one is refused from now on, its runs released.

    Raises ``ValidationError`` for a revoked runner (register a new one instead).
    """
    with transaction.atomic():
        locked = SelfHostedRunner.objects.select_for_update().get(pk=runner.pk)
        if locked.revoked_at is not None:
            raise ValidationError("A revoked runner cannot get a new token; register a new one.")
        key, digest, hint = _new_key()
        SelfHostedRunner.objects.filter(pk=locked.pk).update(
            key_hash=digest, hint=hint, rotated_at=Now()
        )
        _record(
            locked.workspace,
            by,
            f"token {locked.display_token}",
            f"token {RUNNER_TOKEN_PREFIX}{hint}…",
        )
        _release_held(locked, f"The token of runner {locked.name} was rotated by {by.email or by}.")
    return IssuedRunnerToken(runner=SelfHostedRunner.objects.get(pk=runner.pk), key=key)


def runner_authenticate(*, key: str | None) -> SelfHostedRunner:
    """Return the runner ``key`` belongs to; raise ``RunnerRefused`` saying why not."""
    if not key:
        raise RunnerRefused("token_missing", "No runner token was sent.")
    if not RUNNER_TOKEN.match(key):
        raise RunnerRefused(
            "token_malformed",
            f"That is not a runner token (they start with {RUNNER_TOKEN_PREFIX}; register a "
            "runner on Admin → Runners).",
        )
    runner = (
        SelfHostedRunner.objects.select_related("workspace").filter(key_hash=_digest(key)).first()
    )
    if runner is None:
        raise RunnerRefused(
            "token_unknown",
            "This runner token is not known (it may have been replaced by a rotation).",
        )
    if runner.revoked_at is not None:
        raise RunnerRefused("token_revoked", f"The runner {runner.name} was revoked.")
    return runner
