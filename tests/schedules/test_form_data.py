"""The schedule form's data file and its journey-bound case list (issue 19 leftovers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Case, Journey
from reqflo.journeys.services import case_create, journey_create
from reqflo.runs.models import Run, RunBatch
from reqflo.schedules.models import Schedule, Tick, TickOutcome
from reqflo.schedules.ticks import schedules_tick
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario
from tests.schedules.helpers import finish, later, schedule_form

pytestmark = pytest.mark.django_db

NUMBERED: dict[str, Any] = {
    "journey": {
        "name": "Numbered",
        "inputs": [
            {"name": "n", "type": "integer", "required": True},
            {"name": "label", "default": "none"},
        ],
        "steps": [
            {
                "id": "echo",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/echo",
                    "query": {"n": "{{ inputs.n }}", "label": "{{ inputs.label }}"},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}


_form = schedule_form


@pytest.fixture
def numbered(make_scenario: MakeScenario) -> Scenario:
    return make_scenario(NUMBERED)


def _file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def test_a_data_file_is_stored_replaced_kept_and_removed(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario(NUMBERED)
    editor = client_as("editor")
    created = editor.post(
        reverse("schedules:create"),
        _form(scenario, data_file=_file("rows.csv", "n,label\n1,first\n2,\n")),
    )
    assert created.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.data_name == "rows.csv"
    assert schedule.data_rows == [{"n": "1", "label": "first"}, {"n": "2"}]
    page = editor.get(reverse("schedules:detail", args=[schedule.pk])).content.decode()
    assert "rows.csv, 2 rows: each run is a batch" in page

    # Each tick dispatches the rows as one batch, one run per row.
    moment = timezone.now()
    schedules_tick(moment)
    tick = Tick.objects.get(schedule=schedule)
    assert tick.run_id is None
    assert tick.batch_id is not None
    batch = RunBatch.objects.get(pk=tick.batch_id)
    assert batch.row_count == 2
    inputs = sorted(run.inputs["n"] for run in Run.objects.filter(batch=batch))
    assert inputs == [1, 2]

    # Saving the form without a file keeps it; the edit page says which file it holds.
    edit_url = reverse("schedules:edit", args=[schedule.pk])
    edit = editor.get(edit_url).content.decode()
    assert "Now rows.csv, 2 rows" in edit
    assert 'name="data_remove"' in edit
    assert editor.post(edit_url, _form(scenario, name="Renamed")).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.data_name, len(schedule.data_rows or [])) == (
        "Renamed",
        "rows.csv",
        2,
    )

    # A new file replaces it.
    rows = json.dumps([{"n": 7}, {"n": 8, "label": "x"}, {"n": 9}])
    replaced = editor.post(edit_url, _form(scenario, data_file=_file("rows.json", rows)))
    assert replaced.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.data_name, schedule.data_rows) == ("rows.json", json.loads(rows))

    # Upload and remove together is refused; remove alone removes it.
    both = editor.post(
        edit_url, _form(scenario, data_remove="on", data_file=_file("rows.csv", "n\n1\n"))
    )
    assert both.status_code == 400
    assert "Upload a new data file or remove it, not both." in both.content.decode()
    five = case_create(journey=scenario.version.journey, name="Five", values={"n": 5})
    removed = editor.post(edit_url, _form(scenario, data_remove="on", case=str(five.pk)))
    assert removed.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.data_rows, schedule.data_name) == (None, "")
    assert 'name="data_remove"' not in editor.get(edit_url).content.decode()

    # Without rows the next tick (once the batch has ended) is one run again.
    for run in Run.objects.filter(batch=batch):
        finish(run)
    schedules_tick(later(moment, 3600))
    tick.refresh_from_db()
    assert tick.outcome == TickOutcome.PASSED  # every row's run passed
    latest = Tick.objects.filter(schedule=schedule).order_by("-due_at").first()
    assert latest is not None
    assert latest.batch_id is None
    assert latest.run is not None
    assert latest.run.inputs["n"] == 5


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "rows.csv",
            "n,label\n1,a\n2\n",
            "rows.csv line 3: expected 2 fields (n, label), found 1",
        ),
        ("rows.csv", "n,n\n1,2\n", "rows.csv line 1: column &#x27;n&#x27; appears twice"),
        ("rows.csv", "n,label\n1,a\nten,b\n", "rows.csv row 2, column &#x27;n&#x27;:"),
        ("rows.csv", "label\nonly\n", "rows.csv row 1: required input &#x27;n&#x27; has no value"),
        ("rows.json", '{"n": 1}', "rows.json line 1 column 1: the file must hold a JSON array"),
        ("rows.json", "[1]", "rows.json line 1: row 1 must be a JSON object"),
        ("rows.json", "[{", "rows.json line 1 column 3: invalid JSON"),
        ("rows.txt", "n\n1\n", "rows.txt: use a .csv or .json file"),
        ("rows.csv", "n\n", "rows.csv: the file has no rows: nothing to run"),
        (
            "rows.csv",
            "n,lable,name\n1,a,first\n",
            "rows.csv column &#x27;lable&#x27; is not an input of journey Numbered; did you mean "
            "&#x27;label&#x27;? (its inputs: &#x27;n&#x27;, &#x27;label&#x27;; label columns: "
            "case, name).",
        ),
        (
            "rows.json",
            '[{"n": 1}, {"n": 2, "extra": true}]',
            "rows.json column &#x27;extra&#x27; is not an input of journey Numbered",
        ),
    ],
)
def test_a_bad_data_file_is_named_by_line_row_and_column(
    client_as: ClientAs, make_scenario: MakeScenario, name: str, text: str, message: str
) -> None:
    scenario = make_scenario(NUMBERED)
    response = client_as("editor").post(
        reverse("schedules:create"),
        _form(scenario, name="Kept name", data_file=_file(name, text)),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="schedule-form"')
    assert message in body
    assert 'value="Kept name"' in body
    assert "Traceback" not in body
    assert not Schedule.objects.exists()


def test_a_secret_input_is_never_stored_in_a_data_file(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    with_secret = {
        "journey": {
            **NUMBERED["journey"],
            "inputs": [*NUMBERED["journey"]["inputs"], {"name": "token", "secret": True}],
        }
    }
    scenario = make_scenario(with_secret)
    value = "tok-Secret-8842-Zq"
    response = client_as("editor").post(
        reverse("schedules:create"),
        _form(scenario, data_file=_file("rows.csv", f"n,token\n1,{value}\n")),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "rows.csv column &#x27;token&#x27; is a secret input" in body
    assert value not in body
    assert not Schedule.objects.exists()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    good=st.lists(st.integers(-(10**6), 10**6), min_size=0, max_size=6),
    bad=st.text(alphabet="abcxyz.-", min_size=1, max_size=8),
    where=st.integers(0, 6),
)
def test_every_row_refusal_names_the_row_that_is_wrong(
    client_as: ClientAs, numbered: Scenario, good: list[int], bad: str, where: int
) -> None:
    """Whatever the rows, a bad value is reported at its own row (1 = the first data row)."""
    scenario = numbered
    values = [str(v) for v in good]
    where = min(where, len(values))
    values.insert(where, bad)
    text = "n\n" + "".join(f"{v}\n" for v in values)
    response = client_as("editor").post(
        reverse("schedules:create"), _form(scenario, data_file=_file("rows.csv", text))
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f"rows.csv row {where + 1}, column &#x27;n&#x27;:" in body
    assert body.count("rows.csv row ") == 1
    assert not Schedule.objects.exists()


def _two_journeys(make_scenario: MakeScenario) -> tuple[Scenario, Journey, Case, Case]:
    first = make_scenario(NUMBERED)
    other = {"journey": {**NUMBERED["journey"], "name": "Other journey"}}
    second = journey_create(
        workspace=first.workspace, author=first.owner, checked=check_document(other)
    )
    ours = case_create(journey=first.version.journey, name="Case of numbered", values={"n": 1})
    theirs = case_create(journey=second, name="Case of other", values={"n": 2})
    return first, second, ours, theirs


def test_the_case_list_follows_the_chosen_journey(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    first, second, ours, theirs = _two_journeys(make_scenario)
    editor = client_as("editor")
    page = editor.get(reverse("schedules:create")).content.decode()
    # The first journey by name is chosen at first, and only its cases are offered.
    assert "Case of numbered" in page
    assert "Case of other" not in page
    assert 'hx-get="/schedules/new/"' in page
    assert 'hx-select="#id_case"' in page  # only the case list is swapped
    # A journey change asks for the form (htmx) of that journey, with its cases.
    redraw = editor.get(
        reverse("schedules:create"),
        {"journey": str(second.pk), "name": "Typed", "case": str(ours.pk)},
        headers={"HX-Request": "true"},
    )
    body = redraw.content.decode()
    assert body.lstrip().startswith('<form id="schedule-form"')
    assert "Case of other" in body
    assert "Case of numbered" not in body
    assert 'value="Typed"' in body
    # A case of another journey is refused in words, on the page and in the service.
    refused = editor.post(
        reverse("schedules:create"),
        _form(first, journey=str(second.pk), case=str(ours.pk)),
    )
    assert refused.status_code == 400
    assert "Choose one of the chosen journey&#x27;s cases, or none." in refused.content.decode()
    assert not Schedule.objects.exists()
    saved = editor.post(
        reverse("schedules:create"),
        _form(first, journey=str(second.pk), case=str(theirs.pk)),
    )
    assert saved.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.case == theirs
    edit = editor.get(reverse("schedules:edit", args=[schedule.pk])).content.decode()
    assert "Case of other" in edit
    assert "Case of numbered" not in edit


def test_the_redraw_keeps_the_access_rules(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    _, second, _, _ = _two_journeys(make_scenario)
    query = {"journey": str(second.pk)}
    headers = {"HX-Request": "true"}
    # The outsider gets a form of their own workspace, with none of our journeys or cases.
    for persona, status in [("viewer", 403), ("outsider", 200), ("anonymous", 200)]:
        response = client_as(persona).get(reverse("schedules:create"), query, headers=headers)
        assert response.status_code == status, persona
        if persona == "anonymous":  # htmx is sent to the login page
            assert response["HX-Redirect"].startswith("/accounts/login/")
        assert "Case of" not in response.content.decode()
        assert "Other journey" not in response.content.decode()
