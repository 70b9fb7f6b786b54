"""The words of the journey format, for tools that build journeys (the editor, importers).

Each is the engine's own table, so adding an assertion type, an operator or an output source to
the engine is the one edit; a tool adds only its labels.
"""

from __future__ import annotations

from reqflo.engine.journey_schema import _ASSERTION_FIELDS, ASSERTION_TYPES, METHODS, OUTPUT_SOURCES
from reqflo.engine.operators import OPERATORS

# Assertion types that take an ``operator`` (the others reject one as an unknown key).
OPERATOR_ASSERTION_TYPES = frozenset(
    kind for kind, fields in _ASSERTION_FIELDS.items() if "operator" in fields
)

__all__ = [
    "ASSERTION_TYPES",
    "METHODS",
    "OPERATORS",
    "OPERATOR_ASSERTION_TYPES",
    "OUTPUT_SOURCES",
]
