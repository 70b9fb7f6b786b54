"""Re-encrypt the whole store from one store key to another, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import BinaryField, Value
from django.db.models.functions import Cast
from django.dispatch import Signal
from django.views.decorators.debug import sensitive_variables

from reqflo.secrets.crypto import StoreCipher, UndecryptableValue
from reqflo.secrets.models import SecretValue


class RotationRefused(Exception):
    """Nothing was changed; the message says why."""


@dataclass(frozen=True, slots=True)
class RotationReport:
    values: int
    secrets: int
    # What other apps re-sealed in the same transaction (``store_key_rotating``), e.g.
    # {"runs": 2, "checkpoints": 3}: the sealed inputs and checkpoints of unfinished runs.
    resealed: dict[str, int] | None = None


# Sent inside the rotation's transaction with ``old`` and ``new`` (StoreCipher) and the keys
# themselves (``old_key``, ``new_key``: for what is signed with a key derived from the store key):
# apps above secrets that seal or sign data under the store key (runs: sealed inputs, checkpoints,
# run seals) move it here and return {what: how many}; raising RotationRefused rolls the whole
# rotation back.
store_key_rotating = Signal()


def _ciphertexts(*, lock: bool) -> list[dict[str, Any]]:
    """Return every value row's raw ciphertext (the field would decrypt with the current key)."""
    rows = SecretValue.objects.annotate(raw=Cast("value", output_field=BinaryField()))
    if lock:
        rows = rows.select_for_update(of=("self",))
    return list(
        rows.values("id", "raw", "environment", "secret_id", "secret__name", "secret__workspace_id")
    )


def _label(row: dict[str, Any]) -> str:
    where = f" (environment {row['environment']})" if row["environment"] else ""
    return f"{row['secret__name']}{where}"


@sensitive_variables()
def _decrypt_all(
    rows: list[dict[str, Any]], cipher: StoreCipher, *, which: str = "old key"
) -> dict[Any, str]:
    plaintexts: dict[Any, str] = {}
    failed = []
    for row in rows:
        try:
            plaintexts[row["id"]] = cipher.decrypt(bytes(row["raw"]))
        except UndecryptableValue:
            failed.append(_label(row))
    if failed:
        raise RotationRefused(
            f"{len(failed)} value(s) do not decrypt under the {which}: {', '.join(failed)}. "
            f"Nothing was changed. Check the {which}; a corrupted value must be rotated in "
            "Admin → Secrets (set a new value) before the store key can be rotated."
        )
    return plaintexts


@sensitive_variables()
def store_key_check(*, old_key: str) -> RotationReport:
    """Verify that every stored value decrypts under ``old_key`` (the current key)."""
    rows = _ciphertexts(lock=False)
    _decrypt_all(rows, StoreCipher(old_key), which="current key")
    return RotationReport(values=len(rows), secrets=len({row["secret_id"] for row in rows}))


@sensitive_variables()
def store_key_rotate(*, old_key: str, new_key: str) -> RotationReport:
    """Re-encrypt every value (and recompute fingerprints) from ``old_key`` to ``new_key``.

    One transaction with the rows locked: first every row must decrypt under the old key, else
    nothing is written; after writing, every row is read back and must decrypt under the new
    key to the same text, else the transaction rolls back.
    """
    if old_key == new_key:
        raise RotationRefused("The new store key is the same as the old one. Nothing was changed.")
    with transaction.atomic():
        return _rotate(StoreCipher(old_key), StoreCipher(new_key), old_key=old_key, new_key=new_key)


@sensitive_variables()
def _rotate(old: StoreCipher, new: StoreCipher, *, old_key: str, new_key: str) -> RotationReport:
    rows = _ciphertexts(lock=True)
    plaintexts = _decrypt_all(rows, old)
    for row in rows:
        plaintext = plaintexts[row["id"]]
        SecretValue.objects.filter(pk=row["id"]).update(
            value=Value(new.encrypt(plaintext), output_field=BinaryField()),
            fingerprint=new.fingerprint(
                workspace_id=row["secret__workspace_id"], plaintext=plaintext
            ),
        )
    for row in _ciphertexts(lock=False):
        try:
            ok = new.decrypt(bytes(row["raw"])) == plaintexts[row["id"]]
        except UndecryptableValue:
            ok = False
        if not ok:
            raise RotationRefused(
                f"{_label(row)} did not read back under the new key; rolled back, nothing changed."
            )
    resealed: dict[str, int] = {}
    for _, counts in store_key_rotating.send(
        sender=RotationReport, old=old, new=new, old_key=old_key, new_key=new_key
    ):
        if isinstance(counts, dict):
            for what, count in counts.items():
                resealed[what] = resealed.get(what, 0) + int(count)
    return RotationReport(
        values=len(rows), secrets=len({row["secret_id"] for row in rows}), resealed=resealed
    )
