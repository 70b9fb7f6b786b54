"""A batch row is named by its data file's case (else name) column with its number, everywhere."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reqflo.runners.execution import run_execute
from reqflo.runs.models import Run, RunBatch
from tests.api.conftest import ApiClient, TokenFor, token_for
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario, Target
from tests.runs.pages import PAGES_JOURNEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]

__all__ = ["token_for"]  # fixtures

ROWS = b"case,password\nHappy path,p1\n,p2\nGrace <admin>,p3\n"
LABELS = ["row 1 · Happy path", "row 2", "row 3 · Grace <admin>"]


@pytest.fixture
def scenario(make_scenario: MakeScenario, target: Target) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


@pytest.fixture
def batch(client_as: ClientAs, scenario: Scenario) -> RunBatch:
    """A batch started from the Run panel with a data file that names two of its rows."""
    response = client_as("editor").post(
        reverse("dispatch:new", kwargs={"journey_id": scenario.version.journey_id}),
        {
            "op": "run",
            "version": 1,
            "environment": scenario.environment.pk,
            "data_file": SimpleUploadedFile("rows.csv", ROWS),
        },
    )
    assert response.status_code == 302, response.content.decode()
    batch = RunBatch.objects.get()
    for child in Run.objects.filter(batch=batch):
        run_execute(run_id=child.pk)
    return batch


def test_pages_name_each_row_by_its_case_column_and_number(
    client_as: ClientAs, batch: RunBatch
) -> None:
    client = client_as("viewer")
    page = client.get(reverse("runs:batch", kwargs={"batch_id": batch.pk})).content.decode()
    for label in LABELS:
        assert f"<td>{label.replace('<', '&lt;').replace('>', '&gt;')}</td>" in page
    history = client.get(reverse("runs:list")).content.decode()
    assert "row 3 · Grace &lt;admin&gt;</a>" in history
    child = Run.objects.get(batch=batch, batch_row=0)
    detail = client.get(reverse("runs:detail", kwargs={"run_id": child.pk})).content.decode()
    assert 'data-testid="run-case">row 1 · Happy path of' in detail
    # The label column is a name, not an input: the run did not get it as one.
    assert "case" not in child.inputs


def test_the_api_and_reports_name_the_row_the_same_way(
    client_as: ClientAs, batch: RunBatch, token_for: TokenFor
) -> None:
    api = ApiClient(f"Bearer {token_for('viewer')}")
    out = api.get(f"/batches/{batch.pk}").json()
    assert [run["row_label"] for run in out["runs"]] == LABELS
    assert [run["row_name"] for run in out["runs"]] == ["Happy path", None, "Grace <admin>"]
    child = Run.objects.get(batch=batch, batch_row=2)
    report = json.loads(
        client_as("viewer").get(reverse("runs:report_json", kwargs={"run_id": child.pk})).content
    )
    assert report["runs"][0]["label"] == LABELS[2]
    junit = client_as("viewer").get(reverse("runs:batch_junit", kwargs={"batch_id": batch.pk}))
    assert "row 1 · Happy path" in junit.content.decode()
