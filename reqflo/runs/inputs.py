"""Run inputs at rest: secret ones sealed under the store key, masked everywhere they are shown.

A journey marks an input ``secret: true``. Its value is needed only by the worker that executes
the run, so it is never written to ``runs_run.inputs``: that column holds the non-secret inputs
and the mask ``•••••`` in place of each secret one, and ``runs_run.sealed_inputs`` holds the
secret values encrypted with the store cipher (as checkpoints are), until the run finishes and
the seal is dropped in the same update that finishes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reqflo.engine import REDACTED, numbers, secret_texts
from reqflo.runs.models import Run
from reqflo.secrets.crypto import current_cipher


def secret_input_names(plan: Mapping[str, Any]) -> frozenset[str]:
    """Return the names of the inputs an artifact's plan declares secret."""
    return frozenset(i["name"] for i in plan.get("inputs", []) if i.get("secret"))


def seal_inputs(
    inputs: Mapping[str, Any], plan: Mapping[str, Any]
) -> tuple[dict[str, Any], bytes | None]:
    """Split merged inputs into (what may be stored and shown, the sealed secret values or None).

    A secret input without a value (``None``) has nothing to hide and stays as it is.
    """
    secret = secret_input_names(plan)
    hidden = {name: value for name, value in inputs.items() if name in secret and value is not None}
    shown = {name: REDACTED if name in hidden else value for name, value in inputs.items()}
    if not hidden:
        return shown, None
    return shown, current_cipher().encrypt(numbers.dumps(hidden))


def run_inputs(run: Run) -> dict[str, Any]:
    """Return the inputs a worker runs with: the stored ones with the sealed values put back.

    Raises ``UndecryptableValue`` when the seal was made under a store key that is gone.
    """
    inputs = dict(run.inputs)
    if run.sealed_inputs:
        inputs.update(numbers.loads(current_cipher().decrypt(bytes(run.sealed_inputs))))
    return inputs


def secret_input_values(run: Run) -> frozenset[str]:
    """Return every text to mask for ``run``'s secret inputs, in logs and evidence.

    A structured value (an object or array input) gives its JSON text and every leaf inside it
    (``secret_texts``): a journey may use one part of it on its own.
    """
    if not run.sealed_inputs:
        return frozenset()
    sealed = numbers.loads(current_cipher().decrypt(bytes(run.sealed_inputs)))
    return frozenset(text for value in sealed.values() for text in secret_texts(value))
