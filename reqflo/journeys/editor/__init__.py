"""The form view of the editor: a journey as plain form fields, and back to a document.

``state`` holds the form state and choices, ``reading`` fills it (from a document or a POST),
``building`` turns it back into a document, ``operations`` applies the editor's buttons.

``EditorState`` holds exactly what the user typed (strings, checkboxes), so a page that fails
validation re-renders their input untouched. ``state_from_document`` fills it from a saved
version; ``document_from_state`` builds the document the engine validates, reporting field
problems (a JSON body that does not parse, a timeout that is not a number) as ``Issue``s with
the same paths the engine uses. Keys the form has no field for (a step's ``tags``, an input's
``type``) ride along in a hidden JSON field, so saving from the form never drops them.

Field names mirror definition paths: ``steps-2-request-url`` is ``steps[2].request.url``.
"""

from __future__ import annotations

from reqflo.journeys.editor.building import document_from_state
from reqflo.journeys.editor.operations import apply_operation, issue_anchor, new_step
from reqflo.journeys.editor.reading import state_from_document, state_from_post
from reqflo.journeys.editor.state import (
    ASSERTION_TYPES,
    BODY_KINDS,
    METHODS,
    OPERATOR_CHOICES,
    OPERATOR_TYPES,
    OPERATORS,
    OUTPUT_SOURCES,
    AssertionRow,
    EditorState,
    InputRow,
    OutputRow,
    PairRow,
    StepForm,
    VariableRow,
    last_send,
    step_aliases,
    text_to_value,
    value_to_text,
)

__all__ = [
    "ASSERTION_TYPES",
    "BODY_KINDS",
    "METHODS",
    "OPERATORS",
    "OPERATOR_CHOICES",
    "OPERATOR_TYPES",
    "OUTPUT_SOURCES",
    "AssertionRow",
    "EditorState",
    "InputRow",
    "OutputRow",
    "PairRow",
    "StepForm",
    "VariableRow",
    "apply_operation",
    "document_from_state",
    "issue_anchor",
    "last_send",
    "new_step",
    "state_from_document",
    "state_from_post",
    "step_aliases",
    "text_to_value",
    "value_to_text",
]
