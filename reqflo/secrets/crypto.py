"""Encrypt, decrypt and fingerprint secret values with the store's own key.

django-cryptography's stock fields sign every ciphertext with Django's ``SECRET_KEY`` (its
``FernetSigner`` falls back to it), so rotating ``SECRET_KEY`` would make every stored value
unreadable. Here both the AES key and the HMAC signing key derive from ``REQFLO_SECRETS_KEY``
alone, with the library's ``FernetBytes`` doing the authenticated encryption.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signing import BadSignature
from django_cryptography.core.signing import FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

MIN_KEY_LENGTH = 32
# The master key is stretched once per process and key; the cost only guards weak passphrases.
_KDF_SALT = b"reqflo.secrets.store-key.v1"
_KDF_ITERATIONS = 200_000
FINGERPRINT_LENGTH = 10


class StoreKeyMissing(ImproperlyConfigured):
    """The store key is unset or too short to protect anything."""


class UndecryptableValue(ValueError):
    """A ciphertext that does not decrypt under the store key (wrong key or corrupted row)."""


@dataclass(frozen=True, slots=True)
class _DerivedKeys:
    encryption: bytes
    signing: bytes
    fingerprint: bytes


def _derive(store_key: str) -> _DerivedKeys:
    master = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=_KDF_SALT, iterations=_KDF_ITERATIONS
    ).derive(store_key.encode())

    def expand(purpose: bytes) -> bytes:
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=purpose).derive(master)

    return _DerivedKeys(
        encryption=expand(b"reqflo.secrets.aes-256"),
        signing=expand(b"reqflo.secrets.hmac-sha256"),
        fingerprint=expand(b"reqflo.secrets.fingerprint"),
    )


def check_store_key(store_key: str | None, *, name: str = "REQFLO_SECRETS_KEY") -> str:
    """Return the key, or raise StoreKeyMissing saying what to set (``name`` says which key)."""
    if not store_key:
        raise StoreKeyMissing(
            f"{name} is not set: the secret store cannot encrypt or decrypt values. "
            "Set it to the key the store was created with (see docs/operations.md)."
        )
    if len(store_key) < MIN_KEY_LENGTH:
        raise StoreKeyMissing(
            f"{name} is {len(store_key)} characters long; use at least "
            f"{MIN_KEY_LENGTH} random characters (see docs/operations.md)."
        )
    return store_key


class StoreCipher:
    """Authenticated encryption of text values under one store key."""

    def __init__(self, store_key: str) -> None:
        keys = _derive(check_store_key(store_key))
        self._signer = FernetSigner(keys.signing)
        self._fernet = FernetBytes(keys.encryption, self._signer)
        self._fingerprint_key = keys.fingerprint

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        """Return the plaintext; raise UndecryptableValue for a wrong key or a damaged token."""
        try:
            return self._fernet.decrypt(bytes(token)).decode()
        except (BadSignature, InvalidToken, UnicodeDecodeError, ValueError) as exc:
            raise UndecryptableValue("the value does not decrypt under this store key") from exc

    def is_intact(self, token: bytes) -> bool:
        """Return whether ``token`` was sealed under this key and is unchanged, without decrypting.

        Checks only the HMAC, so pages can flag a damaged row while the plaintext stays out of
        the web process.
        """
        try:
            self._signer.unsign(bytes(token))
        except (BadSignature, ValueError):
            return False
        return True

    def fingerprint(self, *, workspace_id: object, plaintext: str) -> str:
        """Return a short keyed HMAC of the value, comparable only inside one workspace.

        Keyed so that a database dump alone cannot confirm a guess of the value; scoped to
        the workspace so fingerprints never correlate values across tenants.
        """
        message = f"{workspace_id}\x00{plaintext}".encode()
        digest = hmac.new(self._fingerprint_key, message, hashlib.sha256).hexdigest()
        return digest[:FINGERPRINT_LENGTH]


@lru_cache(maxsize=4)
def cipher_for(store_key: str) -> StoreCipher:
    return StoreCipher(store_key)


def current_cipher() -> StoreCipher:
    """Return the cipher for the configured key, read at each call so the key can be swapped."""
    return cipher_for(check_store_key(getattr(settings, "REQFLO_SECRETS_KEY", None)))
