"""Seal a finished run: a digest over the facts its step chain does not hold, signed by us.

The chain of step results (``reqflo.engine.digest``) proves the steps were not changed one by
one, but anyone who can write the database can recompute it, and a run's status, inputs and
attempts live outside it. The seal covers those facts and the chain's head; its signature is an
HMAC-SHA256 under a key derived from the secret store's key (``REQFLO_SECRETS_KEY``), which the
database does not hold and every worker already shares (it decrypts the run's secrets), so a
run sealed by a worker verifies on the web server. What it
proves and what it does not: docs/runs.md, "What the seal proves".
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from uuid import UUID

from django.conf import settings

from reqflo.engine.digest import seal_digest, seal_facts, seal_signature
from reqflo.runs.models import Run, RunSeal, StepResult

# Names what the derived key is for, so no other use of the store key yields the same key.
_KEY_PURPOSE = b"reqflo evidence seal v1"


def seal_key(store_key: str | None = None) -> bytes:
    """Return the key that signs seals, derived from ``store_key`` (default: the store's key).

    Never stored: ``HMAC-SHA256(store_key, "reqflo evidence seal v1")``.
    """
    key = settings.REQFLO_SECRETS_KEY if store_key is None else store_key
    return hmac.new(key.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def run_facts(run: Run, *, steps: int, artifact_id: str) -> dict[str, Any]:
    """Return the facts of ``run`` a seal covers, given its stored step count."""
    return seal_facts(
        run_id=str(run.pk),
        status=str(run.status),
        step_count=run.step_count,
        steps=steps,
        head=run.head_digest,
        artifact_id=artifact_id,
        inputs=run.inputs,
        attempts=run.attempts,
    )


def run_seal_create(*, run_id: UUID) -> RunSeal:
    """Seal the finished run ``run_id`` as stored now; call it in the finishing transaction."""
    run = Run.objects.select_related("artifact").get(pk=run_id)
    steps = StepResult.objects.filter(run_id=run_id).count()
    digest = seal_digest(run_facts(run, steps=steps, artifact_id=run.artifact.artifact_id))
    return RunSeal.objects.create(
        run_id=run_id, digest=digest, signature=seal_signature(seal_key(), digest)
    )


def run_seals_resign(*, old_key: str, new_key: str) -> dict[str, int]:
    """Re-sign every run seal that verifies under ``old_key`` with ``new_key``'s seal key.

    Called inside the store key rotation's transaction (``store_key_rotating``), so seals keep
    verifying after the old key is gone. A seal whose signature does not verify under the old
    key is left exactly as it is: re-signing it would vouch for what the old key never signed.
    Returns ``{"seals": re-signed, "seals_unverified": left as they were}``.
    """
    old, new = seal_key(old_key), seal_key(new_key)
    resigned = unverified = 0
    seals = (
        RunSeal.objects.select_for_update().order_by("run_id").only("run_id", "digest", "signature")
    )
    for seal in seals.iterator(chunk_size=2000):
        if not hmac.compare_digest(seal.signature, seal_signature(old, seal.digest)):
            unverified += 1
            continue
        RunSeal.objects.filter(run_id=seal.run_id).update(
            signature=seal_signature(new, seal.digest)
        )
        resigned += 1
    return {"seals": resigned, "seals_unverified": unverified}
