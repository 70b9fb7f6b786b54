from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.core.models import Workspace
from reqflo.engine import Artifact, DefinitionError
from reqflo.engine.step_checks import StepChecks
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text, render_yaml, yaml_lines
from reqflo.journeys.models import JourneyVersion
from tests.engine import test_step_checks as step_checks_cases
from tests.journeys import samples


def test_yaml_and_mapping_of_the_same_journey_have_one_fingerprint() -> None:
    doc = samples.document()
    from_text = check_text(render_yaml(doc))
    from_mapping = check_document(doc)
    assert from_text.digest == from_mapping.digest
    assert from_text.document == doc


def test_spelling_out_a_default_does_not_change_the_fingerprint() -> None:
    doc = samples.document()
    explicit = samples.edited(doc, description="", tags=[])
    explicit["journey"]["steps"][0]["always"] = False
    assert check_document(explicit).digest == check_document(doc).digest


def test_any_real_change_changes_the_fingerprint() -> None:
    doc = samples.document()
    assert check_document(samples.edited(doc, name="Other")).digest != check_document(doc).digest


def test_render_yaml_keeps_the_authors_key_order() -> None:
    checked = check_text(samples.LOGIN_YAML)
    text = render_yaml(checked.document)
    assert text.index("Content-Type") < text.index("Accept")
    assert text.index("name: Login check") < text.index("steps:")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(DefinitionError) as caught:
        check_text("journey:\n  name: [unclosed\n")
    assert "line" in str(caught.value)


def test_schema_errors_carry_their_paths() -> None:
    doc = samples.document()
    doc["journey"]["steps"][1]["assertions"][0] = {
        "type": "json_path",
        "path": "$.x",
        "operator": "equal",
        "expected": 1,
    }
    with pytest.raises(DefinitionError) as caught:
        check_document(doc)
    paths = [issue.path for issue in caught.value.issues]
    assert "steps[1].assertions[0].operator" in paths
    assert "did you mean 'equals'" in str(caught.value)


def test_yaml_lines_point_issue_paths_at_their_lines() -> None:
    lines = yaml_lines(
        samples.LOGIN_YAML,
        ["name", "steps[0].request.url", "steps[0].assertions[0].expected", "steps[0].nope"],
    )
    text = samples.LOGIN_YAML.splitlines()
    assert text[lines["name"] - 1].strip() == "name: Login check"
    assert text[lines["steps[0].request.url"] - 1].strip().startswith("url:")
    assert "expected: 200" in text[lines["steps[0].assertions[0].expected"] - 1]
    # A key the text does not have stops at the deepest part found: the step itself.
    assert text[lines["steps[0].nope"] - 1].strip() == "- id: login"


def test_yaml_lines_of_text_that_does_not_parse_are_empty() -> None:
    assert yaml_lines("journey: [unclosed", ["name"]) == {}


LONG_DECIMALS = """journey:
  name: Long decimals
  inputs: [{name: rate, default: 0.12345678901234567891}]
  steps:
    - id: get
      request: {method: POST, url: "https://example.test/", json: {n: 12345678901234567.5}}
      assertions:
        - {type: json_path, path: $.n, operator: equals, expected: -2.718281828459045235360287}
"""


@pytest.mark.django_db
def test_a_saved_journey_keeps_every_digit_of_its_decimals(
    workspace: Workspace, editor: User
) -> None:
    """Saved, read back and compiled for the Cloud Runner: no decimal passes through float."""

    checked = check_text(LONG_DECIMALS)
    journey = services.journey_create(workspace=workspace, author=editor, checked=checked)
    version = JourneyVersion.objects.get(pk=journey.head.pk)  # read back from the database
    plan = Artifact.from_json(services.build_artifact_for_version(version=version).plan).plan

    journey_doc = version.document["journey"]
    assert journey_doc["inputs"][0]["default"] == Decimal("0.12345678901234567891")
    assert "12345678901234567.5" in version.definition
    assert "12345678901234567.5" in render_yaml(version.document)
    expected = plan["steps"][0]["assertions"][0]["expected"]
    assert isinstance(expected, Decimal)
    assert expected == Decimal("-2.718281828459045235360287")
    assert check_text(render_yaml(version.document)).digest == checked.digest


@settings(max_examples=100, deadline=None)
@given(st.lists(step_checks_cases.steps(), min_size=1, max_size=5))
def test_a_save_through_the_step_memory_gives_the_full_checks_answer_and_digest(
    rows: list[dict[str, Any]],
) -> None:
    """The editor's Save checks through ``STEP_CHECKS``: refused alike, or the same digest."""

    def outcome(step_checks: StepChecks | None) -> Any:
        document = {"journey": {"name": "J", "inputs": [{"name": "user"}], "steps": rows}}
        try:
            checked = check_document(copy.deepcopy(document), step_checks=step_checks)
        except DefinitionError as error:
            return ("refused", error.issues)
        return ("saved", checked.digest, checked.definition.document, checked.to_json())

    memory = StepChecks()
    full = outcome(None)
    assert outcome(memory) == full  # every step new to the memory
    assert outcome(memory) == full  # every step remembered
