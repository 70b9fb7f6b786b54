"""A batch's page (progress, rows, failures, live until done) and comparing two runs."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest
import xmlschema
from django.urls import reverse

from reqflo.journeys.documents import check_document
from reqflo.journeys.services import journey_version_create
from reqflo.runners.execution import run_execute
from reqflo.runners.services import batch_dispatch, run_dispatch
from reqflo.runs.models import Run, RunBatch, RunStatus, Trigger
from reqflo.runs.selectors import last_run_with_status
from tests.conftest import ClientAs
from tests.engine.test_redaction_spellings import leaked
from tests.factories import JourneyFactory, RunFactory
from tests.runs.fixtures import API_KEY, TOKEN, MakeScenario, Scenario, Target
from tests.runs.history_data import copies
from tests.runs.pages import PAGES_JOURNEY, SECRET_INPUT, finished_batch, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]

XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
MATRIX = [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture
def scenario(make_scenario: MakeScenario, target: Target) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


@pytest.fixture
def batch(scenario: Scenario) -> RunBatch:
    return finished_batch(scenario, rows=3)


def _batch_urls(batch: RunBatch) -> dict[str, str]:
    return {
        "page": reverse("runs:batch", kwargs={"batch_id": batch.pk}),
        "junit": reverse("runs:batch_junit", kwargs={"batch_id": batch.pk}),
    }


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_a_batch_page_and_its_junit_answer_by_role(
    client_as: ClientAs, batch: RunBatch, persona: str, status: int
) -> None:
    client = client_as(persona)
    for name, url in _batch_urls(batch).items():
        assert client.get(url).status_code == status, name
    live = client.get(
        reverse("runs:batch_live", kwargs={"batch_id": batch.pk}), headers={"HX-Request": "true"}
    )
    if persona == "anonymous":
        assert live["HX-Redirect"].startswith(reverse("login"))
    else:
        # Every row finished: the live part answers 286 and htmx stops polling.
        assert live.status_code == {200: 286}.get(status, status)


def test_the_batch_page_shows_progress_rows_and_only_failures_on_demand(
    client_as: ClientAs, batch: RunBatch
) -> None:
    client = client_as("viewer")
    html = client.get(reverse("runs:batch", kwargs={"batch_id": batch.pk})).content.decode()
    assert "3 / 3 done" in html
    assert html.count('data-row="') == 3
    assert "hx-trigger" not in html
    for child in Run.objects.filter(batch=batch):
        assert reverse("runs:detail", kwargs={"run_id": child.pk}) in html
    failures = client.get(
        reverse("runs:batch", kwargs={"batch_id": batch.pk}), {"failures": "1"}
    ).content.decode()
    assert failures.count('data-row="') == 3  # every row failed the profile check


def test_an_unfinished_batch_polls(client_as: ClientAs, scenario: Scenario) -> None:
    batch = batch_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        rows=[{"password": "a"}, {"password": "b"}],
        trigger=Trigger.EDITOR,
    ).batch
    client = client_as("viewer")
    html = client.get(reverse("runs:batch", kwargs={"batch_id": batch.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "0 / 2 done" in html
    live = client.get(
        reverse("runs:batch_live", kwargs={"batch_id": batch.pk}), headers={"HX-Request": "true"}
    )
    assert live.status_code == 200
    assert live.content.decode().lstrip().startswith('<section id="batch-live"')


def test_the_batch_junit_validates_and_holds_no_secret(
    client_as: ClientAs, batch: RunBatch
) -> None:
    text = client_as("viewer").get(_batch_urls(batch)["junit"]).content.decode()
    xmlschema.XMLSchema(str(XSD)).validate(text)
    assert text.count("<testsuite ") == 3
    secrets = [API_KEY, TOKEN] + [f"{SECRET_INPUT}-{n}" for n in range(3)]
    owner = client_as("owner")
    journey_id = batch.journey_version.journey_id
    pages = [
        text,
        owner.get(_batch_urls(batch)["page"]).content.decode(),
        owner.get(
            reverse("runs:batch_live", kwargs={"batch_id": batch.pk}),
            headers={"HX-Request": "true"},
        ).content.decode(),
        owner.get(reverse("runs:journey_runs", kwargs={"journey_id": journey_id})).content.decode(),
        owner.get(reverse("runs:list")).content.decode(),
    ]
    for page in pages:
        assert leaked(page, secrets) == []


def _passing_version(scenario: Scenario) -> None:
    """Save v2: the profile expects "Ada" (passes) and the echo sends the user, not the secret."""
    document = copy.deepcopy(PAGES_JOURNEY)
    steps = document["journey"]["steps"]
    steps[1]["assertions"][1]["expected"] = "Ada"
    steps[1]["assertions"].pop()
    steps[2]["request"]["query"] = {"k": "{{ inputs.user }}"}
    journey = scenario.version.journey
    version = journey_version_create(
        journey=journey,
        author=scenario.owner,
        checked=check_document(document),
        base_number=journey.head_number,
    )
    assert version is not None
    run = run_dispatch(
        workspace=scenario.workspace,
        version=version,
        environment=scenario.environment,
        trigger=Trigger.EDITOR,
        inputs={"password": SECRET_INPUT},
    ).run
    run_execute(run_id=run.pk)


@pytest.fixture
def pair(scenario: Scenario) -> tuple[Run, Run]:
    _passing_version(scenario)
    passed = Run.objects.get(status=RunStatus.PASSED)
    failed = finished_run(scenario)
    return passed, failed


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_compare_answers_by_role(
    client_as: ClientAs, pair: tuple[Run, Run], persona: str, status: int
) -> None:
    passed, failed = pair
    url = reverse("runs:compare")
    assert client_as(persona).get(url, {"a": passed.pk, "b": failed.pk}).status_code == status


def test_compare_shows_what_differs_step_by_step(
    client_as: ClientAs, pair: tuple[Run, Run]
) -> None:
    passed, failed = pair
    html = (
        client_as("viewer")
        .get(reverse("runs:compare"), {"a": passed.pk, "b": failed.pk})
        .content.decode()
    )
    assert 'data-step="profile" data-differences="status,assertions"' in html
    # The echo answered another value: its body, its length and the body check's actual.
    assert 'data-step="echo" data-differences="assertions,headers,body"' in html
    assert 'data-step="login" data-differences=""' in html
    assert "+  &quot;echo&quot;: &quot;•••••&quot;" in html
    assert leaked(html, [API_KEY, TOKEN, SECRET_INPUT]) == []


def test_a_run_page_offers_to_compare_a_failure_with_the_last_pass(
    client_as: ClientAs, pair: tuple[Run, Run]
) -> None:
    passed, failed = pair
    html = (
        client_as("viewer")
        .get(reverse("runs:detail", kwargs={"run_id": failed.pk}))
        .content.decode()
    )
    assert f"?a={passed.pk}&amp;b={failed.pk}" in html


def test_compare_refuses_runs_of_two_journeys_and_junk_ids(
    client_as: ClientAs, pair: tuple[Run, Run]
) -> None:
    passed, _ = pair
    client = client_as("viewer")
    # A junk id is bad input (400, naming it); another journey's run cannot be compared (404).
    assert client.get(reverse("runs:compare"), {"a": "nope", "b": passed.pk}).status_code == 400
    other = RunFactory(
        version=JourneyFactory(workspace=passed.workspace).head, environment=passed.environment
    )
    assert client.get(reverse("runs:compare"), {"a": passed.pk, "b": other.pk}).status_code == 404


def test_compare_offers_the_last_pass_before_this_run_never_a_later_one_even_in_a_tie(
    client_as: ClientAs, scenario: Scenario
) -> None:
    template = finished_run(scenario)
    moment = template.created_at + timedelta(hours=1)
    passed = {"status": RunStatus.PASSED}
    specs = [
        {**passed, "created_at": moment - timedelta(seconds=2)},
        *[{**passed, "created_at": moment} for _ in range(4)],  # ties with the failed run
        {**passed, "created_at": moment + timedelta(seconds=1)},  # later: never offered
        {"status": RunStatus.FAILED, "created_at": moment},
    ]
    *passes, failed = copies(template, specs)
    before = [r for r in passes if (r.created_at, r.pk.int) < (failed.created_at, failed.pk.int)]
    expected = max(before, key=lambda r: (r.created_at, r.pk.int))
    assert last_run_with_status(run=failed, status=RunStatus.PASSED) == expected
    html = client_as("viewer").get(reverse("runs:detail", kwargs={"run_id": failed.pk}))
    assert f"?a={expected.pk}&amp;b={failed.pk}" in html.content.decode()
    # The first run of all has no pass before it to compare with.
    first = min(passes, key=lambda r: (r.created_at, r.pk.int))
    assert last_run_with_status(run=first, status=RunStatus.PASSED) is None
