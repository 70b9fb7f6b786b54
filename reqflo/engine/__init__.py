"""Run API journeys: parse, check, compile and execute them, with no Django import.

Public API (everything else in this package is internal):

- ``load_definition(text, *, source="<string>") -> Definition`` parses YAML or JSON text and raises
  ``DefinitionError(issues)`` listing every problem at once (``Issue.path``, ``.code``,
  ``.message``; ``str(issue) == "path: message"``).
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
- ``RunState`` / ``execute_step(state, index)`` for a runner that checkpoints after each step;
  ``RunState.snapshot()`` / ``RunState.restore(...)`` rebuild the state from stored checkpoints.
- ``Redactor`` (``redact(text)``, ``redact_obj(obj)``), ``REDACTED`` and ``SENSITIVE_HEADERS``.
- Result dataclasses from ``reqflo.engine.results``, each with ``to_dict()`` / ``from_dict()``.
"""

from __future__ import annotations

from reqflo.engine.errors import DefinitionError, Issue
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

__all__ = [
    "AssertionResult",
    "AttemptResult",
    "DefinitionError",
    "Issue",
    "RedirectRecord",
    "RequestRecord",
    "ResponseRecord",
    "RunResult",
    "StepError",
    "StepResult",
]
