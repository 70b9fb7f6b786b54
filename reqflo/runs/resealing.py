"""Re-seal what unfinished runs hold under the store key when the key is rotated.

A run seals its secret inputs (``Run.sealed_inputs``) and each step's checkpoint
(``StepResult.checkpoint``: outputs and cookies, secret ones included) under
``REQFLO_SECRETS_KEY``. A run that has not finished still needs them: a worker reads the inputs
when it starts or resumes the run, and the last checkpoint when it resumes after a lost worker.
``rotate_secrets_key`` sends ``store_key_rotating`` inside its transaction; this receiver
re-encrypts those columns from the old key to the new one with the runs locked, so a run resumed
after the old key is gone still decrypts them. Finished runs hold no sealed inputs, and their
checkpoints are never read again (and are immutable).
"""

from __future__ import annotations

from typing import Any

from django.views.decorators.debug import sensitive_variables

from reqflo.runs.models import TERMINAL_STATUSES, Run, StepResult
from reqflo.runs.seals import run_seals_resign
from reqflo.secrets.crypto import StoreCipher, UndecryptableValue
from reqflo.secrets.rotation import RotationRefused


@sensitive_variables()
def _reseal(old: StoreCipher, new: StoreCipher, token: Any, what: str) -> bytes:
    try:
        plaintext = old.decrypt(bytes(token))
    except UndecryptableValue:
        raise RotationRefused(
            f"{what} does not decrypt under the old key. Nothing was changed. Cancel that run "
            "(or let it finish), then rotate the store key again."
        ) from None
    sealed = new.encrypt(plaintext)
    if new.decrypt(sealed) != plaintext:
        raise RotationRefused(f"{what} did not read back under the new key; nothing changed.")
    return sealed


def reseal_unfinished_runs(
    sender: Any, *, old: StoreCipher, new: StoreCipher, **kwargs: Any
) -> dict[str, int]:
    """Re-encrypt the sealed inputs and checkpoints of every unfinished run; return counts."""
    unfinished = Run.objects.exclude(status__in=TERMINAL_STATUSES)
    # Lock the runs: a worker writes a checkpoint under its run's lock, so none lands midway.
    run_ids = list(unfinished.select_for_update().order_by("pk").values_list("pk", flat=True))
    runs = 0
    for run in Run.objects.filter(pk__in=run_ids, sealed_inputs__isnull=False).only(
        "pk", "sealed_inputs"
    ):
        sealed = _reseal(old, new, run.sealed_inputs, f"The secret inputs of run {run.pk}")
        Run.objects.filter(pk=run.pk).update(sealed_inputs=sealed)
        runs += 1
    checkpoints = 0
    rows = StepResult.objects.filter(run_id__in=run_ids).only("pk", "run_id", "index", "checkpoint")
    for row in rows.order_by("run_id", "index"):
        what = f"The checkpoint of step {row.index + 1} of run {row.run_id}"
        sealed = _reseal(old, new, row.checkpoint, what)
        StepResult.objects.filter(pk=row.pk).update(checkpoint=sealed)
        checkpoints += 1
    return {"runs": runs, "checkpoints": checkpoints}


def resign_run_seals(sender: Any, *, old_key: str, new_key: str, **kwargs: Any) -> dict[str, int]:
    """Re-sign the seals of finished runs under the new key (``reqflo.runs.seals``)."""
    return run_seals_resign(old_key=old_key, new_key=new_key)
