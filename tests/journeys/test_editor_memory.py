"""The editor's memory of steps gives exactly what reading, building and checking every step
gives, through any sequence of edits (issue 15: large journeys edit as quickly as small ones).

Pure: the editor's own functions and the engine. The memories are shared by every example (as a
web worker's are by every request), so later examples meet steps remembered by earlier ones.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, definition_from_data, run_check
from reqflo.engine.step_checks import StepChecks
from reqflo.journeys.editor import (
    AssertionRow,
    EditorState,
    OutputRow,
    PairRow,
    StepForm,
    apply_operation,
    document_from_state,
    packing,
    reading,
    state_from_document,
)
from reqflo.journeys.editor import page as editor_page
from reqflo.journeys.editor.packing import FIELD, StepMemory, pack_steps, step_text, unpack_steps
from reqflo.journeys.editor.page import KnownContext, editor_post

MEMORY = StepMemory(size=64)  # small: examples also meet steps the memory has let go
STEP_CHECKS = StepChecks(size=64)
NOTHING = KnownContext(environments=[], secret_names=frozenset({"api_key"}))

IDS = ["login", "cart", "pay", "s4", "login"]  # "login" twice: a duplicate id
OUTPUTS = ["token", "id", "tok"]
URLS = [
    "{{ env.base_url }}/a",
    "{{ env.base_url }}/{{ steps.login.outputs.token }}",
    "/{{ steps.cart.outputs.id }}",
    "/{{ steps.gone.outputs.id }}",
    "/{{ secrets.api_key }}",
    "/{{ steps.login.outputs.tok",  # a half-typed reference
    "",
]


def _document(count: int) -> dict[str, Any]:
    """A journey whose later steps use earlier steps' outputs (and one a later step's)."""
    steps: list[dict[str, Any]] = [
        {
            "id": "login",
            "request": {"method": "POST", "url": "/login", "json": {"user": "{{ inputs.user }}"}},
            "outputs": {"token": {"from": "body", "path": "$.token", "secret": True}},
            "assertions": [{"type": "status_code", "expected": 200}],
        },
        {
            "id": "cart",
            "request": {
                "method": "GET",
                "url": "/cart",
                "headers": {"Authorization": "Bearer {{ steps.login.outputs.token }}"},
            },
            "outputs": {"id": {"from": "body", "path": "$.id"}},
        },
        {"id": "pay", "request": {"method": "POST", "url": "/pay/{{ steps.cart.outputs.id }}"}},
        {"id": "early", "request": {"method": "GET", "url": "/{{ steps.pay.outputs.x }}"}},
    ]
    return {"journey": {"name": "J", "inputs": [{"name": "user"}], "steps": steps[:count]}}


edits = st.one_of(
    st.tuples(st.just("post")),  # a button press: every step rides in steps-packed
    st.tuples(st.just("add_step")),
    st.tuples(
        st.sampled_from(
            [
                "remove_step",
                "duplicate_step",
                "move_up",
                "add_assertion",
                "add_header",
                "add_output",
            ]
        ),
        st.integers(0, 5),
    ),
    # Buttons that change a row of a step (the steps are the memory's own: shared values).
    st.tuples(
        st.sampled_from(["remove_assertion", "remove_header", "remove_output"]),
        st.integers(0, 5),
        st.integers(0, 1),
    ),
    st.tuples(st.just("move_step"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("id"), st.integers(0, 5), st.sampled_from(IDS)),
    st.tuples(st.just("output"), st.integers(0, 5), st.sampled_from(OUTPUTS)),
    st.tuples(st.just("url"), st.integers(0, 5), st.sampled_from(URLS)),
    st.tuples(
        st.just("header"),
        st.integers(0, 5),
        st.sampled_from(["", "X"]),
        st.sampled_from(["1", "{{ steps.cart.outputs.id }}", "{{ oops"]),
    ),
    st.tuples(st.just("body"), st.integers(0, 5), st.sampled_from(['{"a": 1}', "{nope", ""])),
)


def _edit(state: EditorState, edit: tuple[Any, ...]) -> None:
    """Apply one edit as the page would: a button, or a field of the step on screen typed."""
    kind = edit[0]
    if kind == "post":
        state.steps = unpack_steps(pack_steps(state.steps, MEMORY), MEMORY) or []
        return
    if kind.startswith(("add_", "remove_")) or kind in ("duplicate_step", "move_up"):
        apply_operation(state, ":".join(map(str, edit)))
        return
    if kind == "move_step":
        apply_operation(state, f"move_step:{edit[1]}:{edit[2]}")
        return
    if edit[1] >= len(state.steps):
        return
    # The step on screen arrives as posted fields: a step of its own replaces its packed copy.
    step = copy.deepcopy(state.steps[edit[1]])
    step.packed = ""
    if kind == "id":
        step.id = edit[2]
    elif kind == "output":
        step.outputs = [OutputRow(name=edit[2], path="$.token"), *step.outputs[1:]]
    elif kind == "url":
        step.url = edit[2]
    elif kind == "header":
        step.headers.append(PairRow(edit[2], edit[3]))
    elif kind == "body":
        step.body_kind, step.body = "json", edit[2]
    state.steps[edit[1]] = step


def _full(state: EditorState) -> Any:
    """What reading every step afresh says: the document, its problems, or its Run check."""
    fresh = copy.deepcopy(state)
    for step in fresh.steps:
        step.packed = ""
    document, issues = document_from_state(fresh)
    return document, issues, _checked(copy.deepcopy(document), None)


def _incremental(state: EditorState) -> Any:
    document, issues = document_from_state(state, MEMORY.item)
    return document, issues, _checked(document, STEP_CHECKS)


def _checked(document: dict[str, Any], step_checks: StepChecks | None) -> Any:
    try:
        definition = definition_from_data(document, step_checks=step_checks)
    except DefinitionError as error:
        return ("refused", error.issues)
    event("accepted")
    issues = run_check(definition, environment={"base_url": "x"}, secret_names={"api_key"})
    return (definition.document, definition.steps, definition.references, issues)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(1, 4), sequence=st.lists(edits, max_size=15))
def test_the_memory_gives_what_reading_every_step_gives_through_any_edits(
    count: int, sequence: list[tuple[Any, ...]]
) -> None:
    state = state_from_document(_document(count))
    for edit in sequence:
        _edit(state, edit)
        assert _incremental(state) == _full(state), edit
        packed = pack_steps(state.steps, MEMORY)
        assert packed == pack_steps(state.steps, StepMemory()), "packed text differs"
        assert unpack_steps(packed, MEMORY) == state.steps
        # The steps handed out are copies: no edit changed a remembered one.
        assert _intact(MEMORY), edit
        assert _intact(packing.MEMORY), edit


def _intact(memory: StepMemory) -> bool:
    """Return whether every step ``memory`` holds still is what its text reads as."""
    with memory._lock:
        held = list(memory._items.items())
    return all(facts.form == packing._step(json.loads(text)) for text, facts in held)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(1, 4),
    sequence=st.lists(edits, max_size=8),
    op=st.sampled_from(
        [
            "save",
            "refresh",
            "view_yaml",
            "add_step",
            "remove_step:0",
            "move_step:0:2",
            "duplicate_step:1",
            "select_step:2",
        ]
    ),
)
def test_an_editor_post_answers_alike_with_the_memories_warm_or_empty(
    count: int, sequence: list[tuple[Any, ...]], op: str
) -> None:
    state = state_from_document(_document(count))
    for edit in sequence:
        _edit(state, edit)
    shown = state.steps[0] if state.steps else StepForm()
    data = {
        "journey-name": "J",
        "inputs-0-name": "user",
        FIELD: pack_steps(state.steps),
        "step": "0",
        "op": op,
        "steps-0-id": shown.id,
        "steps-0-request-url": shown.url,
        "steps-0-request-method": shown.method,
    }

    def answer() -> Any:
        outcome = editor_post(data, NOTHING)
        page = outcome.page
        saved = outcome.save
        return (
            outcome.status,
            page.state,
            page.packed_steps,
            [dataclasses.astuple(issue) for issue in page.issues],
            [dataclasses.astuple(issue) for issue in page.check or []],
            (saved.digest, saved.to_json()) if saved else None,
            page.yaml_text,
        )

    warm = answer()
    assert answer() == warm  # everything remembered now
    with pytest.MonkeyPatch.context() as patch:  # every memory empty: each step read afresh
        empty = StepMemory()
        for module in (packing, editor_page, reading):
            patch.setattr(module, "MEMORY", empty)
        patch.setattr(editor_page, "STEP_CHECKS", StepChecks())
        assert answer() == warm


def test_a_step_handed_out_may_be_changed_without_changing_what_its_text_reads_as() -> None:
    memory = StepMemory()
    steps = [StepForm(id="a", url="/a", assertions=[AssertionRow(expected="200")])]
    text = pack_steps(steps, memory)
    first = unpack_steps(text, memory) or []
    first[0].id = "changed"
    first[0].assertions.append(AssertionRow(type="json_path"))
    first[0].headers.append(PairRow("X", "1"))
    assert unpack_steps(text, memory) == steps
    assert _intact(memory)
    # The changed step is written and built afresh, not as the text it was read from.
    assert unpack_steps(pack_steps(first, memory), memory) == first
    assert memory.item(first[0]) == packing.step_item(first[0])


def test_the_memory_is_bounded_by_count_and_by_characters() -> None:
    by_count = StepMemory(size=3)
    unpack_steps(pack_steps([StepForm(id=f"s{n}") for n in range(10)], StepMemory()), by_count)
    assert len(by_count) == 3
    by_chars = StepMemory(chars=1000)
    big = [StepForm(id=f"s{n}", body="x" * 300) for n in range(10)]
    assert unpack_steps(pack_steps(big, by_chars), by_chars) == big
    assert 0 < len(by_chars) <= 1000 // len(step_text(big[0]))


def test_a_packed_field_from_before_the_lines_still_reads() -> None:
    import base64
    import json
    import zlib

    steps = [StepForm(id="a"), StepForm(id="b", url="/b")]
    items = [json.loads(step_text(step)) for step in steps]
    old = json.dumps(items, separators=(",", ":")).encode()
    assert unpack_steps(base64.b64encode(zlib.compress(old)).decode()) == steps
