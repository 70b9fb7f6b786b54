"""The web import: run the engine's converter on what the import form holds.

The converters are the CLI's (``reqflo.engine.imports``); this module maps the form's choices
onto them, words the report's summary for a version message (which has a length limit; the
whole report is kept with the version, see ``VersionImportReport``), and seals the source between
the preview and the create step.

Why sealed: a collection or an environment file holds credentials, and the preview page must
carry the source on to the create step without writing it to HTML or to a database column in
clear. It travels as a Fernet token (AES + HMAC) under a key derived from ``SECRET_KEY`` for this
purpose only, valid for an hour.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from reqflo.engine.errors import DefinitionError
from reqflo.engine.imports import (
    ImportedJourney,
    ImportResult,
    SecretName,
    SourceError,
    import_curl,
    import_har,
    import_openapi,
    import_postman,
)
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import JourneyVersion

KINDS = [
    ("reqflo", "Reqflo journey (YAML or JSON, as the editor's YAML view shows it)"),
    ("postman", "Postman collection (v2.0 or v2.1)"),
    ("openapi", "OpenAPI 3.0 / 3.1 or Swagger 2.0 document"),
    ("curl", "curl commands"),
    ("har", "HAR file (a browser's network log)"),
]
MESSAGE_LIMIT: int = JourneyVersion._meta.get_field("message").max_length or 300
SEAL_TTL_S = 3600
MAX_SOURCE_CHARS = 2_000_000


@dataclass(frozen=True)
class ImportChoices:
    """What the user chose on the import page; `text` is the source, `environment` Postman's."""

    kind: str
    text: str
    environment: str = ""
    split: str = "folders"
    group: str = "tags"
    operations: tuple[str, ...] = ()
    name: str = ""
    include_sensitive: bool = False
    include_assets: bool = False
    source_url: str = ""


def convert(choices: ImportChoices) -> ImportResult:
    """Run the converter for `choices.kind`; raises ``SourceError`` for an unusable source."""
    if choices.kind == "reqflo":
        return import_reqflo(choices.text)
    if choices.kind == "postman":
        return import_postman(
            choices.text,
            environment=choices.environment or None,
            split="collection" if choices.split == "collection" else "folders",
        )
    if choices.kind == "openapi":
        return import_openapi(
            choices.text,
            group="operations" if choices.group == "operations" else "tags",
            operations=list(choices.operations) or None,
            source_url=choices.source_url or None,
        )
    if choices.kind == "curl":
        return import_curl(
            choices.text,
            name=choices.name or "Imported from curl",
            include_sensitive=choices.include_sensitive,
        )
    return import_har(
        choices.text,
        name=choices.name or "Imported from HAR",
        include_sensitive=choices.include_sensitive,
        include_assets=choices.include_assets,
    )


SHOWN_ISSUES = 10


def import_reqflo(text: str) -> ImportResult:
    """Read a Reqflo journey document as an import of one journey, its secrets by name.

    Raises ``SourceError`` naming every problem (the first SHOWN_ISSUES, with their lines or
    paths) when the text is not a valid journey: the same checks as New journey and the editor.
    """
    try:
        checked = check_text(text, source="import")
    except DefinitionError as error:
        shown = "; ".join(str(issue) for issue in error.issues[:SHOWN_ISSUES])
        more = len(error.issues) - SHOWN_ISSUES
        tail = f" (and {more} more)" if more > 0 else ""
        raise SourceError(f"not a valid Reqflo journey: {shown}{tail}") from None
    result = ImportResult(kind="Reqflo journey")
    journey = {**checked.document["journey"], "slug": checked.definition.slug}  # slug optional
    result.journeys.append(ImportedJourney(document={"journey": journey}, source="journey"))
    result.secrets = [
        SecretName(name, "journey", "referenced as {{ secrets." + name + " }}")
        for name in sorted(checked.definition.secret_names())
    ]
    result.finish()
    return result


def version_message(result: ImportResult) -> str:
    """Return the report's summary as a version message: the summary, then items while they
    fit in MESSAGE_LIMIT, then how many more the whole report (kept with the version) holds."""
    message = f"Imported from {result.kind}: {result.summary()}"
    items = [str(item) for item in result.items if item.severity != "note"]
    for index, item in enumerate(items):
        tail = f" (+{len(items) - index} more in the import report)"
        candidate = f"{message}; {item}"
        rest = len(items) - index - 1
        room = MESSAGE_LIMIT - (len(f" (+{rest} more in the import report)") if rest else 0)
        if len(candidate) > room:
            return message[: MESSAGE_LIMIT - len(tail)] + tail
        message = candidate
    return message[:MESSAGE_LIMIT]


@lru_cache(maxsize=2)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"reqflo.journeys.import-source"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    """Return `text` as an authenticated, encrypted token for a hidden form field."""
    return _fernet(settings.SECRET_KEY).encrypt(zlib.compress(text.encode())).decode()


def unseal(token: str) -> str | None:
    """Return the text of a token from `seal`, or None when it is forged, damaged or expired."""
    try:
        packed = _fernet(settings.SECRET_KEY).decrypt(token.encode(), ttl=SEAL_TTL_S)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_SOURCE_CHARS * 4)
        if inflater.unconsumed_tail:
            return None
        return data.decode()
    except (InvalidToken, zlib.error, UnicodeDecodeError, ValueError):
        return None
