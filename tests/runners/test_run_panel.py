"""Run from the editor: the panel, its Run check, dispatching a run or a batch, re-run, cancel.

Posts go through the real dispatch services into PostgreSQL; nothing executes here (the
browser test runs one on a real worker). A secret input typed in the panel never comes back
in any answer and is never stored in clear.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reqflo.engine import REDACTED
from reqflo.journeys.services import case_create
from reqflo.runs.models import Run, RunBatch, RunStatus, Trigger
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario
from tests.runs.pages import PAGES_JOURNEY, SECRET_INPUT, finished_run, queued_run

pytestmark = pytest.mark.django_db

MATRIX = [("owner", 200), ("editor", 200), ("viewer", 403), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


def _panel_url(scenario: Scenario) -> str:
    return reverse("dispatch:new", kwargs={"journey_id": scenario.version.journey_id})


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_the_run_panel_is_for_editors_and_owners(
    client_as: ClientAs, scenario: Scenario, persona: str, status: int
) -> None:
    client = client_as(persona)
    assert client.get(_panel_url(scenario)).status_code == status
    posted = client.post(
        _panel_url(scenario),
        {
            "op": "run",
            "version": 1,
            "environment": scenario.environment.pk,
            "input_password": SECRET_INPUT,
        },
    )
    assert posted.status_code == {200: 302}.get(status, status)
    assert Run.objects.count() == (1 if status == 200 else 0)


def test_the_panel_marks_required_inputs_hides_secret_ones_and_prefills_the_case(
    client_as: ClientAs, scenario: Scenario
) -> None:
    case = case_create(journey=scenario.version.journey, name="Grace", values={"user": "grace"})
    html = client_as("editor").get(_panel_url(scenario), {"case": case.pk}).content.decode()
    assert "password (required)" in html
    assert 'type="password" name="input_password"' in html
    assert 'name="input_user" value="grace"' in html
    # The Run check names the missing required input and the Run button is disabled.
    assert "required input &#x27;password&#x27; has no value" in html
    assert 'data-testid="run-button" disabled' in html


def test_running_with_a_case_and_an_override_lands_on_the_new_run(
    client_as: ClientAs, scenario: Scenario, editor: User
) -> None:
    case = case_create(journey=scenario.version.journey, name="Grace", values={"user": "grace"})
    response = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "run",
            "version": 1,
            "environment": scenario.environment.pk,
            "case": case.pk,
            "input_user": "ada",
            "input_password": SECRET_INPUT,
        },
    )
    run = Run.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("runs:detail", kwargs={"run_id": run.pk})
    assert (run.trigger, run.triggered_by, run.case) == (Trigger.EDITOR, editor, case)
    assert run.inputs == {"user": "ada", "password": REDACTED}
    assert run.status == RunStatus.QUEUED


def test_a_refused_run_check_answers_400_with_the_issues_and_creates_nothing(
    client_as: ClientAs, scenario: Scenario
) -> None:
    response = client_as("editor").post(
        _panel_url(scenario),
        {"op": "run", "version": 1, "environment": scenario.environment.pk, "input_user": "x"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<section id="run-panel"')
    assert "required input &#x27;password&#x27; has no value" in html
    assert not Run.objects.exists()


def test_check_again_with_htmx_answers_the_run_check_only_and_never_echoes_a_secret(
    client_as: ClientAs, scenario: Scenario
) -> None:
    response = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "check",
            "version": 1,
            "environment": scenario.environment.pk,
            "input_password": SECRET_INPUT,
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="run-check"')
    assert 'data-blocking="false"' in html  # only a warning left: the Run button is enabled
    assert SECRET_INPUT not in html
    page = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "check",
            "version": 1,
            "environment": scenario.environment.pk,
            "input_password": SECRET_INPUT,
        },
    )
    assert SECRET_INPUT not in page.content.decode()


def test_a_data_file_starts_a_batch_of_one_run_per_row(
    client_as: ClientAs, scenario: Scenario
) -> None:
    data = SimpleUploadedFile("rows.csv", b"password,user\np1,ann\np2,bob\n", "text/csv")
    response = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "run",
            "version": 1,
            "environment": scenario.environment.pk,
            "data_file": data,
        },
    )
    batch = RunBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("runs:batch", kwargs={"batch_id": batch.pk})
    assert batch.row_count == 2
    users = sorted(r.inputs["user"] for r in Run.objects.filter(batch=batch))
    assert users == ["ann", "bob"]


def test_a_required_input_given_only_by_the_data_file_starts_the_batch(
    client_as: ClientAs, scenario: Scenario
) -> None:
    data = SimpleUploadedFile("rows.json", b'[{"password": "p1"}, {"password": "p2"}]')
    base = {"version": 1, "environment": scenario.environment.pk}
    client = client_as("editor")
    check = client.post(
        _panel_url(scenario),
        {**base, "op": "check", "data_file": data},
        headers={"HX-Request": "true"},
    )
    assert 'data-blocking="false"' in check.content.decode()
    data.seek(0)
    response = client.post(_panel_url(scenario), {**base, "op": "run", "data_file": data})
    batch = RunBatch.objects.get()
    assert response["Location"] == reverse("runs:batch", kwargs={"batch_id": batch.pk})
    assert batch.row_count == 2


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "rows.csv",
            b"user\nann\nbob\n",
            "<code>rows.csv: inputs[0]</code>: rows.csv has no &#x27;password&#x27; column, and "
            "no case, override or default gives the required input &#x27;password&#x27;",
        ),
        (
            "rows.csv",
            b"password,user\np1,ann\n,bob\n",
            "<code>rows.csv row 2: inputs[0]</code>: required input &#x27;password&#x27; has an "
            "empty cell",
        ),
        (
            "rows.json",
            b'[{"user": "ann"}, {"password": "p"}, {"user": "cy"}]',
            "<code>rows.json rows 1, 3: inputs[0]</code>: required input &#x27;password&#x27;",
        ),
    ],
)
def test_the_run_check_reads_the_data_file_and_names_the_rows_that_miss_an_input(
    client_as: ClientAs, scenario: Scenario, name: str, content: bytes, said: str
) -> None:
    response = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "check",
            "version": 1,
            "environment": scenario.environment.pk,
            "data_file": SimpleUploadedFile(name, content),
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'data-blocking="true"' in html
    assert said in html
    assert not RunBatch.objects.exists()


def test_a_broken_data_file_is_named_with_its_line(client_as: ClientAs, scenario: Scenario) -> None:
    data = SimpleUploadedFile("rows.csv", b"password,user\np1\n", "text/csv")
    response = client_as("editor").post(
        _panel_url(scenario),
        {
            "op": "run",
            "version": 1,
            "environment": scenario.environment.pk,
            "data_file": data,
            "input_password": SECRET_INPUT,
        },
    )
    assert response.status_code == 400
    assert (
        "rows.csv line 2: expected 2 fields (password, user), found 1" in response.content.decode()
    )
    assert not RunBatch.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_cancel_is_for_editors_and_owners(
    client_as: ClientAs, scenario: Scenario, persona: str, status: int
) -> None:
    run = queued_run(scenario)
    response = client_as(persona).post(reverse("dispatch:cancel", kwargs={"run_id": run.pk}))
    assert response.status_code == status
    run.refresh_from_db()
    cancelled = persona in ("owner", "editor")
    assert run.status == (RunStatus.CANCELLED if cancelled else RunStatus.QUEUED)
    if cancelled:
        assert response["Location"] == reverse("runs:detail", kwargs={"run_id": run.pk})


@pytest.mark.usefixtures("slow_heartbeat")
@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_re_run_asks_for_secret_inputs_again_and_lands_on_the_new_run(
    client_as: ClientAs, scenario: Scenario, persona: str, status: int
) -> None:
    run = finished_run(scenario)
    url = reverse("dispatch:rerun", kwargs={"run_id": run.pk})
    client = client_as(persona)
    # The page asking for secret inputs again: 200 for editors, as the matrix for the rest.
    assert client.get(url).status_code == (200 if persona in ("owner", "editor") else status)
    if persona not in ("owner", "editor"):
        assert client.post(url).status_code == status
        return
    refused = client.post(url)
    assert refused.status_code == 400
    assert "inputs.password" in refused.content.decode()
    response = client.post(url, {"input_password": SECRET_INPUT})
    new = Run.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reverse("runs:detail", kwargs={"run_id": new.pk})
    assert (new.artifact_id, new.environment_id) == (run.artifact_id, run.environment_id)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)],
)
def test_cancel_a_batch_is_for_editors_and_owners(
    client_as: ClientAs, scenario: Scenario, persona: str, status: int
) -> None:
    from reqflo.runners.services import batch_dispatch

    batch = batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=[{"password": "a"}, {"password": "b"}],
        trigger=Trigger.EDITOR,
    ).batch
    url = reverse("dispatch:cancel_batch", kwargs={"batch_id": batch.pk})
    assert client_as(persona).post(url).status_code == status
    statuses = set(Run.objects.filter(batch=batch).values_list("status", flat=True))
    cancelled = persona in ("owner", "editor")
    assert statuses == {RunStatus.CANCELLED if cancelled else RunStatus.QUEUED}
