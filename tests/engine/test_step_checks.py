"""Incremental validation: a journey checked through ``StepChecks`` says exactly what a full
check says, wherever its remembered steps moved to and whatever they hold (issue 15).
"""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, definition_from_data, run_check
from reqflo.engine.depth import MAX_DEPTH
from reqflo.engine.step_checks import StepChecks


def _mostly(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``good``, or one time in 25 one of ``bad``: many journeys are accepted (and
    their references compared), many are refused (and their issues compared)."""
    return st.integers(0, 24).flatmap(lambda n: st.sampled_from(bad if n == 0 else good))


_SCALARS = _mostly(
    [200, "200", 200.0, True, Decimal("200"), "{{ inputs.user }}", "{{ steps.s1.outputs.id }}"],
    [None, {"a": 1}, "{{ nope"],
)


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    """A step, right or nearly right: wrong types, unknown keys, bad references, odd numbers."""
    unique = f"s{draw(st.integers(0, 10**6))}"
    step: dict[str, Any] = {"id": draw(_mostly([unique], ["s1", "S 3", ""]))}
    request: dict[str, Any] = {
        "method": draw(_mostly(["GET", "post"], ["FETCH"])),
        "url": draw(
            _mostly(
                ["{{ env.base_url }}/a", "/b", "{{ steps.s1.outputs.id }}/c"], ["{{ nope", "", 7]
            )
        ),
    }
    if draw(st.booleans()):
        request["headers"] = draw(st.dictionaries(st.sampled_from(["A", "B"]), _SCALARS))
    if draw(st.booleans()):
        request[draw(_mostly(["json"], ["body", "form", "jsn"]))] = {"user": draw(_SCALARS)}
    step["request"] = request
    if draw(st.booleans()):
        step["assertions"] = [
            {"type": "status_code", "expected": draw(_mostly([200, [200, 201]], ["x"]))},
            {"type": "json_path", "path": draw(_mostly(["$.id"], ["$[", "id"]))},
        ]
    if draw(st.booleans()):
        step["outputs"] = {
            draw(_mostly(["token", "id"], ["9x"])): {
                "from": draw(_mostly(["body"], ["header", "status"])),
                "path": "$.token",
            }
        }
    if draw(st.integers(0, 3)) == 0:
        step[draw(st.sampled_from(["timeout_ms", "always", "retries"]))] = draw(_SCALARS)
    return step


def _outcome(document: dict[str, Any], step_checks: StepChecks | None) -> Any:
    """What a check says: the issues, or the definition's parts and its Run check."""
    try:
        definition = definition_from_data(copy.deepcopy(document), step_checks=step_checks)
    except DefinitionError as error:
        return ("refused", error.issues)
    return (
        "accepted",
        definition.document,
        definition.steps,
        definition.references,
        run_check(definition, environment={"base_url": "x"}, secret_names=frozenset()),
    )


def _journey(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"journey": {"name": "J", "inputs": [{"name": "user"}], "steps": rows}}


@settings(max_examples=150, deadline=None)
@given(st.lists(steps(), min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_remembered_steps_give_the_full_checks_answer_at_any_index(
    rows: list[dict[str, Any]], random: Any
) -> None:
    event("accepted" if _outcome(_journey(rows), None)[0] == "accepted" else "refused")
    memory = StepChecks()
    first = _journey(rows)
    assert _outcome(first, memory) == _outcome(first, None)
    # The same steps again, reordered and one repeated: every step is now remembered.
    moved = rows[:]
    random.shuffle(moved)
    moved.append({**rows[0], "id": rows[0]["id"] + "x"})
    moved.append(rows[0])
    again = _journey(moved)
    misses = memory.misses
    assert _outcome(again, memory) == _outcome(again, None)
    assert memory.misses == misses + 1, "a step seen before was checked again"


def test_equal_looking_values_of_other_types_are_not_confused() -> None:
    memory = StepChecks()
    as_number = {"id": "a", "request": {"method": "GET", "url": "/"}, "timeout_ms": 5}
    as_text = {**as_number, "timeout_ms": "5"}
    assert _outcome(_journey([as_number]), memory)[0] == "accepted"
    refused = _outcome(_journey([as_text]), memory)
    assert refused[0] == "refused"
    assert [issue.path for issue in refused[1]] == ["steps[0].timeout_ms"]


def test_the_memory_is_bounded() -> None:
    memory = StepChecks(size=3)
    rows = [{"id": f"s{n}", "request": {"method": "GET", "url": f"/{n}"}} for n in range(10)]
    definition_from_data(_journey(rows), step_checks=memory)
    assert len(memory) == 3
    assert memory.misses == 10


def test_a_remembered_step_is_not_changed_by_what_uses_it() -> None:
    memory = StepChecks()
    row = {"id": "a", "request": {"method": "GET", "url": "/"}}
    first = definition_from_data(_journey([copy.deepcopy(row)]), step_checks=memory)
    # The definition names the step (a default the build fills in) on its own copy.
    first.document["steps"][0]["name"] = "changed"
    second = definition_from_data(_journey([copy.deepcopy(row)]), step_checks=memory)
    assert second.document["steps"][0]["name"] == "a"
    assert dataclasses.asdict(second.steps[0])["name"] == "a"


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@settings(max_examples=60, deadline=None)
@given(
    body=st.integers(MAX_DEPTH - 8, MAX_DEPTH + 2),
    variable=st.integers(MAX_DEPTH - 6, MAX_DEPTH + 2),
    index=st.integers(0, 2),
)
def test_a_document_nested_near_the_limit_is_refused_or_accepted_alike(
    body: int, variable: int, index: int
) -> None:
    """The depth check through the memory (each step's depth remembered, the rest walked)
    refuses exactly the documents a full check refuses, naming the same place."""
    rows: list[dict[str, Any]] = [
        {"id": f"s{n}", "request": {"method": "POST", "url": "/"}} for n in range(3)
    ]
    rows[index]["request"]["json"] = _nested(body)
    document = _journey(rows)
    document["journey"]["variables"] = [{"name": "v", "value": _nested(variable)}]
    memory = StepChecks()
    full = _outcome(document, None)
    event(full[0])
    assert _outcome(document, memory) == full  # every step new to the memory
    assert _outcome(document, memory) == full  # every step remembered
