"""The editor's page model and button dispatch: a pure function of the posted data.

No test here touches the database (none is marked ``django_db``): request data in, outcome out.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from reqflo.engine import definition as engine_definition
from reqflo.engine import vocabulary
from reqflo.journeys import editor
from reqflo.journeys.documents import render_yaml
from reqflo.journeys.editor.page import KnownContext, editor_post, fill_check
from tests.journeys import samples

NOTHING = KnownContext(environments=[], secret_names=frozenset())


def _yaml_post(op: str, text: str) -> dict[str, str]:
    return {"mode": "yaml", "op": op, "yaml": text, "base_version": "3", "message": "why"}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every parse of journey text by the engine."""
    seen: list[str] = []
    original = engine_definition.parse_document

    def counting(text: str) -> Any:
        seen.append(text)
        return original(text)

    monkeypatch.setattr(engine_definition, "parse_document", counting)
    return seen


def test_a_button_that_changes_the_page_comes_back_as_a_page() -> None:
    text = render_yaml(samples.document(steps=1))
    form = editor_post(_yaml_post("view_form", text), NOTHING)
    assert (form.status, form.save, form.page.mode) == (200, None, "form")
    assert len(form.page.state.steps) == 1
    assert form.page.check == []


def test_save_comes_back_with_the_checked_document_and_the_base_version() -> None:
    outcome = editor_post(_yaml_post("save", render_yaml(samples.document())), NOTHING)
    assert outcome.save is not None
    assert outcome.save.definition.name == "Checkout flow"
    assert (outcome.page.base_number, outcome.page.message) == (3, "why")


def test_a_save_with_problems_is_a_400_page_with_the_issues() -> None:
    outcome = editor_post(_yaml_post("save", "journey:\n  name: [unclosed\n"), NOTHING)
    assert (outcome.status, outcome.save) == (400, None)
    assert outcome.page.issues[0].message.startswith("invalid YAML at line")


def test_yaml_is_parsed_once_per_request(parses: list[str]) -> None:
    # A text of its own: one the editor showed before is not parsed at all (page.RENDERED).
    text = render_yaml(samples.document(f"Parsed once {uuid.uuid4().hex}"))
    shown = editor_post(_yaml_post("refresh", text), NOTHING)
    assert len(parses) == 1
    assert shown.page.check == []
    parses.clear()
    saved = editor_post(_yaml_post("save", text), NOTHING)
    # A refused save (a conflict) shows the Run check again: from the same parse.
    fill_check(saved.page, NOTHING, None)
    assert len(parses) == 1


def test_the_run_check_uses_the_secret_names_it_is_given() -> None:
    document = samples.document(steps=1)
    document["journey"]["steps"][0]["request"]["headers"] = {"X-Key": "{{ secrets.api_key }}"}
    text = render_yaml(document)
    missing = editor_post(_yaml_post("refresh", text), NOTHING).page.check
    known = KnownContext(environments=[], secret_names=frozenset({"api_key"}))
    assert missing
    assert "api_key" in missing[0].message
    assert editor_post(_yaml_post("refresh", text), known).page.check == []


def test_the_editor_tables_come_from_the_engine() -> None:
    assert [name for name, _ in editor.ASSERTION_TYPES] == list(vocabulary.ASSERTION_TYPES)
    assert [name for name, _ in editor.OUTPUT_SOURCES] == list(vocabulary.OUTPUT_SOURCES)
    assert [name for name, _ in editor.OPERATOR_CHOICES] == list(vocabulary.OPERATORS)
    assert editor.OPERATOR_TYPES == vocabulary.OPERATOR_ASSERTION_TYPES
    assert dict(editor.ASSERTION_TYPES)["json_path"] == "JSON value"
