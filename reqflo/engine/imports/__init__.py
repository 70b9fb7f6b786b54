"""Import journeys from Postman collections, OpenAPI documents, curl commands and HAR files.

Pure Python (no Django): the CLI and the web import page call the same converters. Each
`import_*` function takes the source (bytes or text) and the user's choices and returns an
`ImportResult`: journey documents already validated by the engine's parser, environment values,
the secret *names* the journeys reference (never values), and the report of every part of the
source that did not map, with its location. A source that cannot be imported at all (too large,
not the right format, a `$ref` outside the document, a YAML alias bomb) raises `SourceError`.
"""

from __future__ import annotations

from reqflo.engine.imports.builder import journey_text
from reqflo.engine.imports.curl import import_curl
from reqflo.engine.imports.fetch import fetch_source
from reqflo.engine.imports.har import import_har
from reqflo.engine.imports.openapi import import_openapi
from reqflo.engine.imports.postman import import_postman
from reqflo.engine.imports.report import (
    ImportedJourney,
    ImportResult,
    ReportItem,
    SecretName,
    SourceError,
)
from reqflo.engine.imports.source import MAX_SOURCE_BYTES

__all__ = [
    "MAX_SOURCE_BYTES",
    "ImportResult",
    "ImportedJourney",
    "ReportItem",
    "SecretName",
    "SourceError",
    "fetch_source",
    "import_curl",
    "import_har",
    "import_openapi",
    "import_postman",
    "journey_text",
]
