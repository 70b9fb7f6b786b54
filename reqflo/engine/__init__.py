"""Run API journeys: parse, check, compile and execute them, with no Django import.

Public API (everything else in this package is internal):

- ``load_definition(text, *, source="<string>") -> Definition`` parses YAML or JSON text and raises
  ``DefinitionError(issues)`` listing every problem at once (``Issue.path``, ``.code``,
  ``.message``; ``str(issue) == "path: message"``).
- ``read_document(text) -> Any`` parses with the same rules and limits, without validating:
  ``definition_from_data(read_document(text))`` for callers that also keep the parsed data.
- ``Definition.secret_names()``: the secret names a definition references.
- ``vocabulary``: the format's tables (``ASSERTION_TYPES``, ``OPERATORS``,
  ``OPERATOR_ASSERTION_TYPES``, ``OUTPUT_SOURCES``, ``METHODS``) for tools that build journeys.
- ``run_check(definition, *, inputs=None, environment=None, secret_names=None) -> list[Issue]``
  returns errors (block a run) and warnings; ``None`` means "not known, not checked".
- ``compile_definition(definition) -> Artifact`` (``.id`` = ``art_<16 hex>``, ``.plan``,
  ``.to_json()``, ``Artifact.from_json(text)``); raises ``DefinitionError`` when the
  context-free run check has errors.
- ``merge_inputs(definition_or_artifact, *, case=None, overrides=None, row=None) -> dict``:
  default < case < overrides (``--set``) < row; strings are coerced to the declared input type;
  raises ``DefinitionError`` (code ``invalid_input``) for a value that cannot be coerced.
- ``run_artifact(artifact, *, inputs, environment, secrets, run_id=None, options=None,
  client=None, on_step=None, label=None, environment_name=None) -> RunResult`` never raises for
  anything the journey or the target does. ``environment`` is the mapping of env values
  (``base_url`` ...), ``secrets`` maps secret names to values.
- ``run_steps(state, *, start=0, after_step=None) -> bool``: the one step loop (``run_artifact``,
  the Cloud Runner and self-hosted runners use it). It starts at ``start`` (resume), re-redacts
  earlier results in place when a later step captures a secret they show, and calls
  ``after_step(result, amended_earlier_results)`` after each step (checkpoint); False stops it.
  ``RunState.snapshot()`` / ``RunState.restore(...)`` rebuild the state from stored checkpoints;
  ``execute_step(state, index)`` runs one step.
- ``new_client(verify_tls=..., transport=None)`` makes a per-run client; pass a shared
  ``httpx.HTTPTransport`` to reuse connections across runs while each run keeps its own cookies.
- ``Redactor`` (``redact(text)``, ``redact_obj(obj)``), ``REDACTED`` and ``SENSITIVE_HEADERS``;
  ``RedactionStopped``: a long redaction stopped by the redactor's ``stop`` callable;
  ``secret_texts(value)``: every text to mask for a secret value (a structure's leaves too).
- Result dataclasses from ``reqflo.engine.results``, each with ``to_dict()`` / ``from_dict()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reqflo.engine.lazy import exports

if TYPE_CHECKING:
    from reqflo.engine import vocabulary
    from reqflo.engine.check import run_check
    from reqflo.engine.compiler import COMPILER_VERSION, Artifact, compile_definition
    from reqflo.engine.definition import (
        Definition,
        definition_from_data,
        load_definition,
        read_document,
    )
    from reqflo.engine.errors import DefinitionError, Issue
    from reqflo.engine.http import new_client
    from reqflo.engine.inputs import merge_inputs
    from reqflo.engine.redaction import REDACTED, SENSITIVE_HEADERS, Redactor, secret_texts
    from reqflo.engine.redaction.budget import RedactionStopped
    from reqflo.engine.results import (
        AssertionResult,
        AttemptResult,
        RedirectRecord,
        RequestRecord,
        ResponseRecord,
        RunResult,
        StepError,
        StepResult,
    )
    from reqflo.engine.runner import AfterStep, execute_step, run_artifact, run_steps
    from reqflo.engine.state import RunOptions, RunState, StepContext

# Where each public name lives: it is imported on first use (see `lazy`), so a caller pays only
# for the parts it touches and `reqflo validate` never loads httpx.
_HOMES = {
    "vocabulary": "reqflo.engine.vocabulary",
    "run_check": "reqflo.engine.check",
    "COMPILER_VERSION": "reqflo.engine.compiler",
    "Artifact": "reqflo.engine.compiler",
    "compile_definition": "reqflo.engine.compiler",
    "Definition": "reqflo.engine.definition",
    "definition_from_data": "reqflo.engine.definition",
    "load_definition": "reqflo.engine.definition",
    "read_document": "reqflo.engine.definition",
    "DefinitionError": "reqflo.engine.errors",
    "Issue": "reqflo.engine.errors",
    "new_client": "reqflo.engine.http",
    "merge_inputs": "reqflo.engine.inputs",
    "REDACTED": "reqflo.engine.redaction",
    "SENSITIVE_HEADERS": "reqflo.engine.redaction",
    "Redactor": "reqflo.engine.redaction",
    "secret_texts": "reqflo.engine.redaction",
    "RedactionStopped": "reqflo.engine.redaction.budget",
    "AssertionResult": "reqflo.engine.results",
    "AttemptResult": "reqflo.engine.results",
    "RedirectRecord": "reqflo.engine.results",
    "RequestRecord": "reqflo.engine.results",
    "ResponseRecord": "reqflo.engine.results",
    "RunResult": "reqflo.engine.results",
    "StepError": "reqflo.engine.results",
    "StepResult": "reqflo.engine.results",
    "AfterStep": "reqflo.engine.runner",
    "execute_step": "reqflo.engine.runner",
    "run_artifact": "reqflo.engine.runner",
    "run_steps": "reqflo.engine.runner",
    "RunOptions": "reqflo.engine.state",
    "RunState": "reqflo.engine.state",
    "StepContext": "reqflo.engine.state",
}


__getattr__, __dir__ = exports(__name__, _HOMES)

__all__ = [
    "COMPILER_VERSION",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "AfterStep",
    "Artifact",
    "AssertionResult",
    "AttemptResult",
    "Definition",
    "DefinitionError",
    "Issue",
    "RedactionStopped",
    "Redactor",
    "RedirectRecord",
    "RequestRecord",
    "ResponseRecord",
    "RunOptions",
    "RunResult",
    "RunState",
    "StepContext",
    "StepError",
    "StepResult",
    "compile_definition",
    "definition_from_data",
    "execute_step",
    "load_definition",
    "merge_inputs",
    "new_client",
    "read_document",
    "run_artifact",
    "run_check",
    "run_steps",
    "secret_texts",
    "vocabulary",
]
