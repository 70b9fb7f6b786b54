"""The encrypted model field that holds secret values."""

from __future__ import annotations

from typing import Any

from django.db import models
from django_cryptography.fields import encrypt

from reqflo.secrets.crypto import current_cipher

# django-cryptography's encrypted TextField class; subclassed so migrations name this module's
# field and the key comes from the store, not from SECRET_KEY.
_EncryptedTextField: type[models.TextField[Any, Any]] = type(encrypt(models.TextField()))


# mypy cannot check a base class computed at run time by encrypt().
class EncryptedValueField(_EncryptedTextField):  # type: ignore[valid-type,misc]
    """A text value stored as ciphertext (bytea) under ``REQFLO_SECRETS_KEY``.

    The library pickles before encrypting; this field stores UTF-8 text instead, so a row is
    only ever data. Reading a row that does not decrypt raises ``UndecryptableValue``.
    """

    def _dump(self, value: Any) -> bytes:
        return current_cipher().encrypt(str(value))

    def _load(self, value: bytes) -> Any:
        return current_cipher().decrypt(value)
