"""The steps the editor page does not show ride in one packed field; posts merge it back."""

from __future__ import annotations

import base64
import zlib

from hypothesis import given
from hypothesis import strategies as st

from reqflo.journeys.editor import AssertionRow, OutputRow, PairRow, StepForm, state_from_post
from reqflo.journeys.editor.packing import FIELD, pack_steps, unpack_steps
from reqflo.journeys.editor.page import selected_after

texts = st.text(max_size=12)
steps = st.builds(
    StepForm,
    id=texts,
    name=texts,
    method=st.sampled_from(["GET", "POST"]),
    url=texts,
    headers=st.lists(st.builds(PairRow, name=texts, value=texts), max_size=3),
    query=st.lists(st.builds(PairRow, name=texts, value=texts), max_size=3),
    body_kind=st.sampled_from(["none", "json", "form", "body"]),
    body=texts,
    timeout_ms=texts,
    always=st.booleans(),
    assertions=st.lists(st.builds(AssertionRow, target=texts, expected=texts, soft=st.booleans())),
    outputs=st.lists(st.builds(OutputRow, name=texts, path=texts, secret=st.booleans())),
    extra=texts,
    sent_ids=texts,
)


@given(st.lists(steps, max_size=6))
def test_packed_steps_come_back_exactly_as_typed(forms: list[StepForm]) -> None:
    assert unpack_steps(pack_steps(forms)) == forms


def test_the_posted_step_replaces_its_packed_copy_and_the_others_stay() -> None:
    forms = [StepForm(id=f"s{n}", url=f"/p{n}") for n in range(3)]
    state = state_from_post(
        {FIELD: pack_steps(forms), "steps-1-id": "s1", "steps-1-request-url": "/edited"}
    )
    assert [(step.id, step.url) for step in state.steps] == [
        ("s0", "/p0"),
        ("s1", "/edited"),
        ("s2", "/p2"),
    ]


def test_a_tampered_or_huge_packed_field_counts_as_none() -> None:
    bomb = base64.b64encode(zlib.compress(b"[" + b" " * 40_000_000 + b"]")).decode()
    for text in ("not base64!", base64.b64encode(b"not zlib").decode(), bomb):
        assert unpack_steps(text) is None
    not_steps = base64.b64encode(zlib.compress(b'[1, "x", {"id": 5}]')).decode()
    assert unpack_steps(not_steps) == [StepForm(id="")]
    state = state_from_post({FIELD: "garbage", "steps-0-id": "only"})
    assert [step.id for step in state.steps] == ["only"]


def test_the_step_shown_follows_the_button() -> None:
    assert selected_after("add_step", 2, 6) == 5
    assert selected_after("duplicate_step:2", 2, 6) == 3
    assert selected_after("move_up:2", 2, 5) == 1
    assert selected_after("move_step:0:4", 0, 5) == 4
    assert selected_after("remove_step:1", 3, 4) == 2
    assert selected_after("remove_step:3", 3, 3) == 2
    assert selected_after("add_assertion:4", 0, 5) == 4
    assert selected_after("select_step:7", 0, 9) == 7
    assert selected_after("refresh", 3, 9) == 3
