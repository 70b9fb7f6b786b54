"""A step's last-send mark follows the step through identity changes (issue 15).

Pure: the editor's own functions, a save modelled as what the view does (the form's document
and ``step_aliases`` stored, the page re-read from them). The real save, send and page are in
``tests/runners/test_send.py`` and the browser test.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqflo.journeys.editor import (
    EditorState,
    apply_operation,
    document_from_state,
    last_send,
    state_from_document,
    step_aliases,
)
from reqflo.journeys.editor.packing import pack_steps, unpack_steps


def _document(count: int) -> dict[str, object]:
    steps = [{"id": f"s{n}", "request": {"method": "GET", "url": "/"}} for n in range(count)]
    return {"journey": {"name": "Marks", "steps": steps}}


def _save(state: EditorState, statuses: dict[str, str]) -> EditorState:
    """Save and reopen: what ``journey_version_create`` stores, what the editor's GET reads."""
    document, issues = document_from_state(state)
    assert not issues
    return state_from_document(document, step_aliases(state.steps, statuses))


actions = st.lists(
    st.one_of(
        st.tuples(st.just("rename"), st.integers(0, 9)),
        st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 9)),
        st.tuples(st.just("duplicate"), st.integers(0, 9)),
        st.tuples(st.just("remove"), st.integers(0, 9)),
        st.tuples(st.just("add")),
        st.tuples(st.just("save")),
        st.tuples(st.just("post")),  # a button press: the steps ride in steps-packed
    ),
    max_size=25,
)


# Up to 25 actions a draw: slow to draw on a loaded machine, which is not a failure.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(1, 5),
    sent=st.dictionaries(st.integers(0, 4), st.sampled_from(["passed", "failed", "error"])),
    steps=actions,
)
def test_a_mark_stays_with_its_step_through_renames_moves_and_saves_and_a_new_step_has_none(
    count: int, sent: dict[int, str], steps: list[tuple[object, ...]]
) -> None:
    statuses = {f"s{n}": status for n, status in sent.items() if n < count}
    state = state_from_document(_document(count))
    origin: list[str | None] = [f"s{n}" for n in range(count)]  # the saved step each one is
    renames = 0
    for action in steps:
        kind = action[0]
        if kind == "save":
            state = _save(state, statuses)
            continue
        if kind == "post":
            state.steps = unpack_steps(pack_steps(state.steps)) or []
            continue
        if kind == "add":
            apply_operation(state, "add_step")
            origin.append(None)
            continue
        i = int(str(action[1]))
        if i >= len(state.steps):
            continue
        if kind == "rename":
            renames += 1
            state.steps[i].id = f"renamed-{renames}"  # never an id a send ran under
        elif kind == "move":
            j = int(str(action[2]))
            if j < len(state.steps):
                apply_operation(state, f"move_step:{i}:{j}")
                origin.insert(j, origin.pop(i))
        elif kind == "duplicate":
            apply_operation(state, f"duplicate_step:{i}")
            origin.insert(i + 1, None)
        elif kind == "remove" and len(state.steps) > 1:
            apply_operation(state, f"remove_step:{i}")
            origin.pop(i)
    for when in ("on screen", "after a save"):
        marks = [last_send(step, statuses) for step in state.steps]
        assert marks == [statuses.get(o, "") if o else "" for o in origin], when
        state = _save(state, statuses)


def test_aliases_keep_only_earlier_ids_that_a_send_ran_under() -> None:
    state = state_from_document(_document(2), {"s0": ["old", "older"]})
    assert state.steps[0].sent_ids == "s0 old older"
    state.steps[0].id = "new"
    assert step_aliases(state.steps, {"older": "passed", "s1": "failed"}) == {"new": ["older"]}
    assert step_aliases(state.steps, {"s0": "passed", "old": "failed"}) == {"new": ["s0", "old"]}
