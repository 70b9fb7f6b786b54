"""The step list of an editor answer: only the items a button changed travel (issue 15).

An htmx answer keeps the list the page shows and carries hunks (at, remove, new items);
``static/js/editor.js`` puts them in place and renumbers every item from its place. Here the
hunks of any button on any list are put in place the same way and must give the full list of
the answer, item for item; the browser side is tests/e2e/test_journeys_editor_swaps.py.
"""

from __future__ import annotations

import re

from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.journeys_editor_large import form_fields
from reqflo.journeys.editor import StepForm
from reqflo.journeys.editor.packing import pack_steps
from reqflo.journeys.editor.page import KnownContext, editor_post, step_rows
from reqflo.journeys.editor.state import EditorState
from reqflo.journeys.editor.step_list import Hunk, list_items, list_patch, sends_key
from reqflo.journeys.models import Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney

NOTHING = KnownContext(environments=[], secret_names=frozenset())
_ITEM = re.compile(r"<li.*?</li>", re.S)


def _items(html: str) -> list[str]:
    return _ITEM.findall(html)


def _put_in_place(shown: list[str], hunks: list[Hunk]) -> str:
    """Do what editor.js does with an answer's hunks: last first, then number every item."""
    items = list(shown)
    for hunk in reversed(hunks):
        items[hunk.at : hunk.at + hunk.remove] = _items(hunk.items)
    numbered = []
    for k, item in enumerate(items):
        item = re.sub(r'data-step="\d+"', f'data-step="{k}"', item)
        item = re.sub(r'href="\?step=\d+"', f'href="?step={k}"', item)
        numbered.append(
            re.sub(
                r'<span class="muted">\d+\.</span>', f'<span class="muted">{k + 1}.</span>', item
            )
        )
    return "".join(numbered)


_steps = st.lists(
    st.builds(
        StepForm,
        id=st.sampled_from(["a", "b", "c", "login", "s1", "s2", "x<y"]),
        name=st.sampled_from(["", "Log in", "List & read", "n"]),
        method=st.sampled_from(["GET", "POST"]),
        sent_ids=st.sampled_from(["", "a", "old b"]),
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def _posts(draw: st.DrawFn) -> tuple[list[StepForm], int, str, dict[str, str], dict[str, str]]:
    """Return (steps, selected, op, edits of the shown step's fields, sends) as a page posts."""
    steps = draw(_steps)
    count = len(steps)
    index = st.integers(0, count - 1)
    selected = draw(index)
    i = draw(index)
    op = draw(
        st.sampled_from(
            [
                "add_step",
                f"remove_step:{selected}",
                f"remove_step:{i}",
                f"move_up:{i}",
                f"move_down:{i}",
                f"move_step:{i}:{draw(index)}",
                f"duplicate_step:{i}",
                f"select_step:{i}",
                f"add_assertion:{selected}",
                "refresh",
                "save",
            ]
        )
    )
    edits = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["Renamed", "", "<b>"]),
                "id": st.sampled_from(["a", "fresh", ""]),
                "request-method": st.sampled_from(["DELETE", "GET"]),
            },
        )
    )
    sends = draw(
        st.dictionaries(
            st.sampled_from(["a", "b", "old", "fresh"]), st.sampled_from(["passed", "failed"])
        )
    )
    return steps, selected, op, edits, sends


@settings(max_examples=300, deadline=None)
@given(_posts())
def test_the_hunks_of_any_button_turn_the_shown_list_into_the_answers_list(
    post: tuple[list[StepForm], int, str, dict[str, str], dict[str, str]],
) -> None:
    steps, selected, op, edits, sends = post
    shown_rows = step_rows(EditorState(steps=steps), sends)
    shown = _items(list_items(shown_rows, shown_rows[selected], True))
    # The page's fields: the selected step's (edited), the others packed.
    fields = samples.post_data(EditorState(name="J", steps=steps))
    data = {
        k: v
        for k, v in fields.items()
        if not k.startswith("steps-") or k.startswith(f"steps-{selected}-")
    }
    data.update({f"steps-{selected}-{key}": value for key, value in edits.items()})
    data.update(
        {
            "steps-packed": pack_steps(steps),
            "step": str(selected),
            "op": op,
            "mode": "form",
            "base_version": "1",
        }
    )

    page = editor_post(data, NOTHING).page
    assert page.shown is not None
    rows = step_rows(page.state, sends)
    current = rows[page.selected] if rows else None
    hunks = list_patch(
        page.shown, page.shown_selected, rows, current, sends, same_sends=True, can_edit=True
    )

    assert _put_in_place(shown, hunks) == list_items(rows, current, True)
    # One button changes a few items: the old and the new current one, a moved or a new step.
    assert sum(len(_items(hunk.items)) for hunk in hunks) <= 4


def test_a_list_whose_sends_changed_since_is_sent_whole() -> None:
    steps = [StepForm(id="a"), StepForm(id="b")]
    rows = step_rows(EditorState(steps=steps), {"b": "passed"})
    hunks = list_patch(steps, 0, rows, rows[0], {"b": "passed"}, same_sends=False, can_edit=True)
    assert [(hunk.at, hunk.remove) for hunk in hunks] == [(0, 2)]
    assert hunks[0].items == list_items(rows, rows[0], True)
    assert "send-mark-passed" in hunks[0].items


def test_the_sends_key_names_the_statuses_not_their_order() -> None:
    assert sends_key({"a": "passed", "b": "failed"}) == sends_key({"b": "failed", "a": "passed"})
    assert sends_key({"a": "passed"}) != sends_key({"a": "failed"})
    assert sends_key({}) != sends_key({"a": "passed"})


# --- The view ------------------------------------------------------------------------------------


def _editor_url(journey: Journey) -> str:
    return reverse("journeys:journey_editor", args=[journey.pk])


def test_an_htmx_answer_keeps_the_list_and_carries_the_items_that_changed(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey()
    client = client_as("editor")
    fields = form_fields(client.get(_editor_url(journey)).content.decode())
    response = client.post(
        _editor_url(journey), {**fields, "op": "select_step:1"}, headers={"HX-Request": "true"}
    )
    answer = response.content.decode()
    # The step's form takes the place of the one on screen; the other parts come out of band.
    assert response.headers["HX-Retarget"] == "#step-details"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert answer.lstrip().startswith('<div class="step-details" id="step-details">')
    for part in ("editor-top", "journey-fields", "steps-heading", "save-bar", "run-check"):
        assert re.search(rf'id="{part}"[^>]*hx-swap-oob="', answer), part
    assert 'id="step-list-items"' not in answer
    patch = answer[answer.index('<template id="step-list-patch">') :]
    # Steps 1 and 2 are next to each other: one hunk of two items.
    assert re.findall(r'data-at="(\d+)" data-remove="(\d+)"', patch) == [("0", "2")]
    assert answer.count("<li draggable") == 2  # the old current item and the new one, no other
    assert 'aria-current="step"' in _items(patch)[1]

    # Without htmx (no JavaScript) the page comes whole, every item in its list.
    response = client.post(_editor_url(journey), {**fields, "op": "select_step:1"})
    page = response.content.decode()
    assert "step-list-patch" not in page
    assert "HX-Retarget" not in response.headers
    assert page.count("<li draggable") == len(journey.head.document["journey"]["steps"])


def test_an_htmx_answer_after_a_send_elsewhere_sends_the_whole_list(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey()
    client = client_as("editor")
    fields = form_fields(client.get(_editor_url(journey)).content.decode())
    fields["list_sends"] = "stale"
    answer = client.post(
        _editor_url(journey), {**fields, "op": "refresh"}, headers={"HX-Request": "true"}
    ).content.decode()
    count = len(journey.head.document["journey"]["steps"])
    assert re.findall(r'data-at="(\d+)" data-remove="(\d+)"', answer) == [("0", str(count))]
    assert answer.count("<li draggable") == count
