"""However many problems a journey has, the editor's lists of them stay small (issue 15).

A 1,500-step journey whose first step ("login") is removed has 1,499 "unknown step 'login'"
errors; listed one by one they made every editor answer 568 KB. Every list of problems goes
through ``editor.problems.summarise``: a few dozen lines, identical problems as one line with
their count, "and N more", the shown step's own problems in full, every erring step named for
the step list's marks. The browser side is tests/e2e/test_journeys_editor_problems.py.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from bench.journeys_editor_large import form_fields, large_document
from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.editor.packing import FIELD, pack_steps, unpack_steps
from reqflo.journeys.editor.page import IssueView
from reqflo.journeys.editor.problems import LIMIT, ranges, step_index, summarise
from reqflo.journeys.services import journey_create
from tests.conftest import ClientAs

STEPS = 1500
ANSWER_BOUND = 60_000  # bytes of an htmx answer (one step's form, the packed rest, the panels)
PAGE_BOUND = 500_000  # bytes of the editor page (issue 15 item 6)

_paths = st.one_of(
    st.just(""),
    st.builds(
        "steps[{}]{}".format, st.integers(0, 60), st.sampled_from(["", ".request.url", ".name"])
    ),
)
_messages = st.sampled_from(["unknown step 'login'", "bad", "worse"]) | st.text(max_size=5)
_problems = st.lists(
    st.builds(
        IssueView,
        severity=st.sampled_from(["error", "warning"]),
        path=_paths,
        message=_messages,
        anchor=st.just("editor-form"),
    ),
    max_size=200,
)


def _expand(text: str) -> set[int]:
    indexes: set[int] = set()
    for part in text.split():
        low, _, high = part.partition("-")
        indexes.update(range(int(low), int(high or low) + 1))
    return indexes


@given(_problems, st.one_of(st.none(), st.integers(0, 60)))
def test_a_summary_is_bounded_and_accounts_for_every_problem(
    problems: list[IssueView], selected: int | None
) -> None:
    summary = summarise(problems, selected)
    assert summary.total == len(problems)
    assert len(summary.lines) <= LIMIT
    assert len(summary.step_problems) <= LIMIT
    assert sum(group.count for group in summary.lines) + summary.hidden == len(problems)
    assert all(len(group.places) <= 3 for group in summary.lines)
    errors = {step_index(p) for p in problems if p.severity == "error"} - {None}
    assert _expand(summary.problem_steps) == errors
    if len(problems) <= LIMIT:  # a short list is the list as it always was
        assert [group.first for group in summary.lines] == problems
        assert summary.step_problems == []
    elif selected is not None:
        own = [p for p in problems if step_index(p) == selected]
        assert summary.step_problems == own[:LIMIT]
        assert summary.step_hidden == max(0, len(own) - LIMIT)


def test_ranges_name_runs_of_indexes() -> None:
    assert ranges([7, 1, 2, 3, 3]) == "1-3 7"
    assert ranges([]) == ""


def _large(workspace: Workspace, author: User, *, login: bool = True) -> str:
    document = large_document(STEPS, login=login)
    journey = journey_create(workspace=workspace, author=author, checked=check_document(document))
    return reverse("journeys:journey_editor", args=[journey.pk])


def test_an_answer_about_1499_problems_stays_small_and_names_their_count(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    url = _large(workspace, owner)
    client = client_as("editor")
    fields = form_fields(client.get(url).content.decode())
    # The defect's steps: step 1 ("login") removed, its 1,499 users now name an unknown step.
    answer = client.post(url, {**fields, "op": "remove_step:0"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert len(html) < ANSWER_BOUND, len(html)
    assert "unknown step &#x27;login&#x27;" in html or "unknown step 'login'" in html
    assert "in 1,499 places" in html
    # Step 1 (s1, on screen) lists its own problem, for its field's note.
    assert 'data-testid="step-issues"' in html
    assert 'data-problem-steps="0-1498"' in html


def test_the_page_of_a_journey_with_1499_problems_stays_under_500_kb(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    url = _large(workspace, owner, login=False)
    html = client_as("editor").get(url + "?step=700").content.decode()
    assert len(html) < PAGE_BOUND, len(html)
    assert "in 1,499 places" in html
    assert "In step 701 (on screen)" in html


def test_a_refused_save_of_1500_bad_steps_lists_a_bounded_few(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    url = _large(workspace, owner)
    client = client_as("editor")
    fields = form_fields(client.get(url).content.decode())
    steps = unpack_steps(fields[FIELD]) or []
    for step in steps:
        step.timeout_ms = "soon"
    fields = {k: v for k, v in fields.items() if not k.startswith("steps-0-timeout")}
    fields[FIELD] = pack_steps(steps)
    fields["steps-0-timeout_ms"] = "soon"
    answer = client.post(url, {**fields, "op": "save"}, headers={"HX-Request": "true"})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert len(html) < ANSWER_BOUND, len(html)
    assert "in 1,500 places" in html
    assert 'data-problem-steps="0-1499"' in html


def test_an_answer_leaves_out_the_run_check_the_page_already_shows(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    url = _large(workspace, owner, login=False)
    client = client_as("editor")
    fields = form_fields(client.get(url).content.decode())
    assert fields["check_key"]

    def answer(**extra: str) -> str:
        posted = {**fields, "op": "refresh", **extra}
        reply = client.post(url, posted, headers={"HX-Request": "true"})
        assert reply.status_code == 200
        return reply.content.decode()

    assert 'id="run-check"' not in answer()  # the same card: not sent again
    assert 'id="run-check"' in answer(check_key="")  # a page without one gets it
    # A change to the check (the shown step no longer reads the missing login) sends it.
    fixed = answer(**{"steps-0-request-headers-0-value": "Bearer x"})
    assert 'id="run-check"' in fixed
    assert "in 1,498 places" in fixed
