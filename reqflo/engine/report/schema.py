"""The JSON Schema (draft 2020-12) of a `reqflo.report/v1` document.

Within v1, fields may be added (objects allow unknown keys) but never removed or renamed; a
breaking change gets `reqflo.report/v2`. docs/report-format.md explains each field and
docs/reqflo.report-v1.schema.json is this schema written out (a test keeps them equal).
"""

from __future__ import annotations

from typing import Any

from reqflo.engine.results import NO_EXPECTED_REASONS, NO_VALUE_REASONS

# The minor versions of v1 and what each added. A value added to a closed list (an enum) is a
# change too: a consumer validating against the older schema would reject it. The newest key is
# the version written (SCHEMA_VERSION); a test holds every reason to an entry here.
SCHEMA_VERSIONS: dict[str, tuple[str, ...]] = {
    "1.0": (),
    "1.1": (
        "schema_version",
        "actual_missing",
        "actual_missing:path_not_found",
        "actual_missing:header_absent",
        "actual_missing:body_not_json",
        "actual_missing:body_unavailable",
        "actual_missing:not_evaluated",
    ),
    "1.2": ("actual_missing:body_too_deep",),
    "1.3": ("expected_missing", "expected_missing:not_taken"),
}
SCHEMA_VERSION = max(SCHEMA_VERSIONS, key=lambda version: tuple(map(int, version.split("."))))

_NULLABLE_STRING = {"type": ["string", "null"]}
_MILLISECONDS = {"type": "number", "minimum": 0}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

_ASSERTION = {
    "type": "object",
    "required": [
        "index",
        "type",
        "operator",
        "target",
        "expected",
        "actual",
        "passed",
        "soft",
        "message",
    ],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "type": {"type": "string"},
        "operator": _NULLABLE_STRING,
        "target": _NULLABLE_STRING,
        "expected": {},
        "actual": {},
        # Added in 1.1: non-null when there is no actual value (then `actual` is null and means
        # nothing); absent in reports written before it, so not required.
        "actual_missing": {"enum": [None, *NO_VALUE_REASONS]},
        # Added in 1.3: "not_taken" for an operator that takes no expected value (`exists`,
        # `not_exists`, `is_empty`, `not_empty`; then `expected` is null and means nothing).
        "expected_missing": {"enum": [None, *NO_EXPECTED_REASONS]},
        "passed": {"type": "boolean"},
        "soft": {"type": "boolean"},
        "message": {"type": "string"},
    },
}

_REQUEST = {
    "type": "object",
    "required": ["method", "url", "headers", "body", "body_size"],
    "properties": {
        "method": {"type": "string"},
        "url": {"type": "string"},
        "headers": _STRING_MAP,
        "body": _NULLABLE_STRING,
        "body_size": {"type": "integer", "minimum": 0},
    },
}

_RESPONSE = {
    "type": "object",
    "required": [
        "status",
        "reason",
        "http_version",
        "headers",
        "body",
        "body_size",
        "body_truncated",
        "elapsed_ms",
        "redirects",
    ],
    "properties": {
        "status": {"type": "integer"},
        "reason": {"type": "string"},
        "http_version": {"type": "string"},
        "headers": _STRING_MAP,
        "body": _NULLABLE_STRING,
        "body_size": {"type": "integer", "minimum": 0},
        "body_truncated": {"type": "boolean"},
        "body_encoding": _NULLABLE_STRING,
        "elapsed_ms": _MILLISECONDS,
        "redirects": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "url", "location"],
                "properties": {
                    "status": {"type": "integer"},
                    "url": {"type": "string"},
                    "location": {"type": "string"},
                },
            },
        },
    },
}

_ATTEMPT = {
    "type": "object",
    "required": [
        "number",
        "started_at",
        "duration_ms",
        "request",
        "response",
        "error",
        "assertions",
        "outcome",
    ],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "started_at": {"type": "string"},
        "duration_ms": _MILLISECONDS,
        "request": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/request"}]},
        "response": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/response"}]},
        "error": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["kind", "message"],
                    "properties": {"kind": {"type": "string"}, "message": {"type": "string"}},
                },
            ]
        },
        "assertions": {"type": "array", "items": {"$ref": "#/$defs/assertion"}},
        "outcome": {"enum": ["passed", "failed", "error"]},
        "retry_reason": _NULLABLE_STRING,
    },
}

_STEP = {
    "type": "object",
    "required": [
        "index",
        "step_id",
        "name",
        "status",
        "skip_reason",
        "always",
        "attempts",
        "outputs",
        "duration_ms",
        "logs",
    ],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "step_id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"enum": ["passed", "failed", "error", "skipped"]},
        "skip_reason": _NULLABLE_STRING,
        "always": {"type": "boolean"},
        "attempts": {"type": "array", "items": {"$ref": "#/$defs/attempt"}},
        "outputs": {"type": "object"},
        "duration_ms": _MILLISECONDS,
        "logs": {"type": "array", "items": {"type": "string"}},
    },
}

_RUN = {
    "type": "object",
    "required": [
        "run_id",
        "journey_name",
        "journey_slug",
        "artifact_id",
        "label",
        "environment",
        "inputs",
        "status",
        "steps",
        "started_at",
        "finished_at",
        "duration_ms",
    ],
    "properties": {
        "run_id": {"type": "string"},
        "journey_name": {"type": "string"},
        "journey_slug": {"type": "string"},
        "artifact_id": {"type": "string", "pattern": "^art_[0-9a-f]{16}$"},
        "label": _NULLABLE_STRING,
        # Added within v1: absent in reports written before it, so not required.
        "row": {"type": ["integer", "null"], "minimum": 1},
        "environment": _NULLABLE_STRING,
        "inputs": {"type": "object"},
        "status": {"enum": ["passed", "failed", "error"]},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "duration_ms": _MILLISECONDS,
    },
}

_COUNT = {"type": "integer", "minimum": 0}

_SUMMARY = {
    "type": "object",
    "required": ["status", "runs", "passed", "failed", "error", "steps", "duration_ms"],
    "properties": {
        "status": {"enum": ["passed", "failed"]},
        "runs": _COUNT,
        "passed": _COUNT,
        "failed": _COUNT,
        "error": _COUNT,
        "steps": {
            "type": "object",
            "required": ["total", "passed", "failed", "error", "skipped"],
            "properties": dict.fromkeys(("total", "passed", "failed", "error", "skipped"), _COUNT),
        },
        "duration_ms": _MILLISECONDS,
    },
}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://reqflo.dev/schemas/reqflo.report-v1.schema.json",
    "title": "Reqflo run report, version 1",
    "type": "object",
    "required": ["schema", "meta", "runs", "summary"],
    "properties": {
        "schema": {"const": "reqflo.report/v1"},
        # The minor version within v1 (what each added: SCHEMA_VERSIONS); absent means 1.0.
        "schema_version": {"type": "string", "pattern": "^1\\.[0-9]+$"},
        "meta": {
            "type": "object",
            "properties": {
                "generator": {"type": "string"},
                "created_at": {"type": "string"},
                "journey_file": {"type": "string"},
                "environment": _NULLABLE_STRING,
                "case": _NULLABLE_STRING,
                "data_file": _NULLABLE_STRING,
                "parallel": {"type": "integer", "minimum": 1},
                "runner": {"type": "string"},
            },
        },
        "runs": {"type": "array", "items": {"$ref": "#/$defs/run"}},
        "summary": {"$ref": "#/$defs/summary"},
    },
    "$defs": {
        "run": _RUN,
        "step": _STEP,
        "attempt": _ATTEMPT,
        "request": _REQUEST,
        "response": _RESPONSE,
        "assertion": _ASSERTION,
        "summary": _SUMMARY,
    },
}
