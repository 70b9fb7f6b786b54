"""``manage.py rotate_secrets_key``: move the secret store to a new REQFLO_SECRETS_KEY.

Keys are read from files or the environment, never from the command line, where they would
land in shell history and the process list. docs/operations.md gives the full procedure.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reqflo.secrets.crypto import StoreKeyMissing, check_store_key
from reqflo.secrets.rotation import RotationRefused, store_key_check, store_key_rotate

NEW_KEY_VARIABLE = "REQFLO_SECRETS_NEW_KEY"


def _read_key(path: str | None, *, fallback: str | None, what: str) -> str:
    if path:
        try:
            raw = Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read the {what} from {path}: {exc.strerror}.") from None
        key = raw.strip()
    else:
        key = (fallback or "").strip()
    try:
        return check_store_key(key, name=f"The {what}")
    except StoreKeyMissing as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret value from the current store key (REQFLO_SECRETS_KEY, or "
        f"--old-key-file) to a new one (--new-key-file or ${NEW_KEY_VARIABLE}), in one "
        "transaction. Changes nothing if any value fails to decrypt."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--old-key-file", help="File holding the current key (default: REQFLO_SECRETS_KEY)."
        )
        parser.add_argument(
            "--new-key-file", help=f"File holding the new key (default: ${NEW_KEY_VARIABLE})."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify that every value decrypts under the current key; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        old_key = _read_key(
            options["old_key_file"],
            fallback=getattr(settings, "REQFLO_SECRETS_KEY", ""),
            what="old store key",
        )
        if options["check"]:
            try:
                report = store_key_check(old_key=old_key)
            except RotationRefused as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"All {report.values} value(s) of {report.secrets} secret(s) decrypt under the "
                "current key."
            )
            return
        if not options["new_key_file"] and not os.environ.get(NEW_KEY_VARIABLE):
            raise CommandError(f"Give the new key with --new-key-file or ${NEW_KEY_VARIABLE}.")
        new_key = _read_key(
            options["new_key_file"],
            fallback=os.environ.get(NEW_KEY_VARIABLE),
            what="new store key",
        )
        try:
            report = store_key_rotate(old_key=old_key, new_key=new_key)
        except RotationRefused as exc:
            raise CommandError(str(exc)) from None
        resealed = report.resealed or {}
        runs = ""
        if resealed:
            runs = (
                f" Re-sealed the secret inputs of {resealed.get('runs', 0)} and "
                f"{resealed.get('checkpoints', 0)} checkpoint(s) of the unfinished runs, and "
                f"re-signed {resealed.get('seals', 0)} run seal(s)."
            )
            if resealed.get("seals_unverified"):
                runs += (
                    f" {resealed['seals_unverified']} seal(s) did not verify under the old key "
                    "and were left as they were: those runs' evidence was changed, or sealed "
                    "under another key."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {report.values} value(s) of {report.secrets} secret(s) under the "
                f"new key and verified each one.{runs}"
            )
        )
        self.stdout.write(
            "Now set REQFLO_SECRETS_KEY to the new key for every process (web, workers, beat) "
            "and restart them. Until then they cannot read secrets."
        )
