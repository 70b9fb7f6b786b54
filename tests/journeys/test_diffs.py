from __future__ import annotations

import copy

from reqflo.journeys.diffs import diff_documents
from tests.journeys import samples


def test_equal_documents_have_an_empty_diff() -> None:
    doc = samples.document()
    diff = diff_documents(doc, copy.deepcopy(doc))
    assert diff.identical
    assert diff.steps == []


def test_step_summary_names_added_removed_and_changed_steps() -> None:
    old = samples.document(steps=3)
    new = copy.deepcopy(old)
    steps = new["journey"]["steps"]
    steps[0]["request"]["url"] = "{{ env.base_url }}/changed"
    del steps[2]
    steps.append(samples.step("s9"))
    diff = diff_documents(old, new)
    summary = {(change.step_id, change.kind) for change in diff.steps}
    assert summary == {("s1", "changed"), ("s3", "removed"), ("s9", "added")}


def test_inserting_a_step_does_not_report_later_steps_as_moved() -> None:
    old = samples.document(steps=3)
    new = copy.deepcopy(old)
    new["journey"]["steps"].insert(0, samples.step("first"))
    diff = diff_documents(old, new)
    assert [(c.step_id, c.kind) for c in diff.steps] == [("first", "added")]


def test_swapping_two_steps_reports_them_moved() -> None:
    old = samples.document(steps=2)
    new = copy.deepcopy(old)
    new["journey"]["steps"].reverse()
    kinds = {c.step_id: c.kind for c in diff_documents(old, new).steps}
    assert kinds == {"s2": "moved", "s1": "moved"}


def test_line_diff_shows_removed_and_added_yaml_lines_with_numbers() -> None:
    old = samples.document()
    new = samples.edited(old, name="Renamed flow")
    diff = diff_documents(old, new)
    removed = [line for line in diff.lines if line.kind == "removed"]
    added = [line for line in diff.lines if line.kind == "added"]
    assert [line.text.strip() for line in removed] == ["name: Checkout flow"]
    assert [line.text.strip() for line in added] == ["name: Renamed flow"]
    assert removed[0].old_number == 2
    assert diff.lines[0].kind == "hunk"
    assert diff.journey_fields == ["name"]


def test_a_changed_step_says_what_changed_in_the_forms_words() -> None:
    old = samples.document(steps=2)
    new = copy.deepcopy(old)
    step = new["journey"]["steps"][1]
    step["request"]["url"] = "{{ env.base_url }}/changed"
    step["request"]["json"] = {"q": 1}
    step["timeout_ms"] = 5000
    step["assertions"][0]["expected"] = 201
    changes = diff_documents(old, new).steps
    assert [(c.step_id, c.kind, c.fields) for c in changes] == [
        ("s2", "changed", ("URL", "body", "checks", "timeout"))
    ]
