"""Send in the editor: one step of the unsaved journey as a real cloud run, and its panel.

Posts go through the real send service into PostgreSQL; ``run_execute`` runs the send in
process as a worker's task does (the browser test uses a real Celery worker), through the
egress policy and the secret store. The secret and the session token are searched for in
every answer.
"""

from __future__ import annotations

import copy
import html as html_module
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from reqflo.journeys.editor import apply_operation, state_from_document
from reqflo.journeys.models import BuildArtifact, Journey
from reqflo.runners.execution import run_execute
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.conftest import ClientAs
from tests.journeys.samples import post_data
from tests.runs.fixtures import API_KEY, THREE_STEPS, TOKEN, MakeScenario, Scenario, Target

pytestmark = pytest.mark.django_db

MATRIX = [("owner", 200), ("editor", 200), ("viewer", 403), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture(autouse=True)
def _slow_heartbeat(settings: Settings) -> None:
    settings.REQFLO_RUN_HEARTBEAT_SECONDS = 60


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


def _send(
    client: Client, scenario: Scenario, step: int, document: dict[str, Any] | None = None
) -> Any:
    data = post_data(state_from_document(document or THREE_STEPS))
    data.update(
        {
            "send_step": str(step),
            "check_environment": str(scenario.environment.pk),
            "base_version": "1",
        }
    )
    url = reverse("dispatch:send", kwargs={"journey_id": scenario.version.journey_id})
    return client.post(url, data, headers={"HX-Request": "true"})


def _status(answer: Any) -> int:
    """The status as a browser sees it: htmx follows HX-Redirect to the login page."""
    if answer.headers.get("HX-Redirect", "").startswith(reverse("login")):
        return 302
    return int(answer.status_code)


def _panel(client: Client, run: Run) -> Any:
    url = reverse("dispatch:send_panel", kwargs={"run_id": run.pk})
    return client.get(url, headers={"HX-Request": "true"})


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_send_is_for_editors_and_owners(
    client_as: ClientAs, scenario: Scenario, persona: str, status: int
) -> None:
    answer = _send(client_as(persona), scenario, 1)
    assert _status(answer) == status
    assert Run.objects.count() == (1 if status == 200 else 0)
    if status == 200:
        run = Run.objects.get()
        assert answer.content.decode().lstrip().startswith('<section class="card send-panel"')
        assert _status(_panel(client_as(persona), run)) == 200
        for other, code in MATRIX:
            if code != 200:
                assert _status(_panel(client_as(other), run)) == code


def test_a_send_runs_the_steps_before_it_then_the_step_as_on_screen_and_shows_the_response(
    client_as: ClientAs, scenario: Scenario, target: Target
) -> None:
    document = copy.deepcopy(THREE_STEPS)
    # An unsaved edit: the saved version checks for "Ada" only; the screen adds a second check.
    document["journey"]["steps"][1]["assertions"].append(
        {"type": "json_path", "path": "$.name", "operator": "equals", "expected": "Grace"}
    )
    client = client_as("editor")
    answer = _send(client, scenario, 1, document)
    run = Run.objects.get()
    assert (run.trigger, run.step_count, run.journey_version) == (
        Trigger.SEND,
        2,
        scenario.version,
    )
    assert BuildArtifact.objects.get(pk=run.artifact_id).version is None  # a draft
    assert 'hx-trigger="every 1s"' in answer.content.decode()  # polls while it runs

    run_execute(run_id=run.pk)
    panel = _panel(client, run)
    html = panel.content.decode()
    assert panel.status_code == 286  # finished: the panel stops polling
    assert (target.count("/login"), target.count("/profile")) == (1, 1)
    assert target.count("/echo") == 0  # steps after the sent one do not run
    assert 'data-sent-step="profile"' in html
    assert "200 OK" in html
    assert 'data-path="$.name" data-value="&quot;Ada&quot;"' in html
    assert (html.count('data-passed="true"'), html.count('data-passed="false"')) == (1, 1)
    assert 'id="send-mark-login"' in html
    assert 'id="send-mark-profile"' in html
    for secret in (API_KEY, TOKEN):
        assert secret not in html
        assert secret not in answer.content.decode()

    # The editor's step list shows each step's status in the last send.
    editor = client.get(reverse("journeys:journey_editor", args=[run.journey_version.journey_id]))
    page = editor.content.decode()
    assert 'id="send-mark-profile" class="send-mark send-mark-failed"' in page
    assert 'id="send-mark-login" class="send-mark send-mark-passed"' in page
    assert 'id="send-mark-echo" class="send-mark"' in page
    # Renamed on screen (not saved): the step keeps its mark, under its new id.
    url = reverse("journeys:journey_editor", args=[run.journey_version.journey_id])
    renamed = post_data(state_from_document(THREE_STEPS))
    renamed.update(
        {"steps-1-id": "me", "base_version": "1", "op": "refresh", "step": "1", "mode": "form"}
    )
    page = client.post(url, renamed, headers={"HX-Request": "true"}).content.decode()
    assert 'id="send-mark-me" class="send-mark send-mark-failed"' in page
    assert 'id="send-mark-login" class="send-mark send-mark-passed"' in page
    # A send ran unsaved content: the journey's "last run" is not it.
    listing = client.get(reverse("journeys:journey_list")).content.decode()
    assert "Failed" not in listing


_MARK = re.compile(r'id="send-mark-([^"]+)" class="send-mark(?: send-mark-(\w+))?"')


def _saved(answer: Any) -> bool:
    """Whether the editor's htmx answer says the save went through (``reqflo:saved``)."""
    return bool(json.loads(answer.headers.get("HX-Trigger") or "{}").get("reqflo:saved") == {})


def _marks(html: str) -> dict[str, str]:
    """Return {step id: its last-send mark ("" for none)} of the editor's step list."""
    return dict(_MARK.findall(html))


def test_a_renamed_moved_step_keeps_its_send_mark_through_saves_and_its_copy_has_none(
    client_as: ClientAs, scenario: Scenario
) -> None:
    client = client_as("editor")
    _send(client, scenario, 1)
    run_execute(run_id=Run.objects.get().pk)
    journey = Journey.objects.get(pk=scenario.version.journey_id)
    url = reverse("journeys:journey_editor", args=[journey.pk])
    before = _marks(client.get(url).content.decode())
    assert before["login"]
    assert before["profile"]
    assert not before["echo"]

    def save(state_of: Any, base: int, **fields: str) -> None:
        data = post_data(state_of)
        data.update({"base_version": str(base), "op": "save", "mode": "form", **fields})
        answer = client.post(url, data, headers={"HX-Request": "true"})
        assert _saved(answer), answer.content[:2000]

    # Renamed, moved last and duplicated on screen, then saved: the copy was never sent.
    head = Journey.objects.get(pk=journey.pk).head
    state = state_from_document(head.document, head.step_aliases)
    state.steps[1].id = "me"
    assert apply_operation(state, "move_step:1:2")
    assert apply_operation(state, "duplicate_step:2")
    save(state, 1)
    after = _marks(client.get(url).content.decode())
    assert after == {"login": before["login"], "echo": "", "me": before["profile"], "me-copy": ""}

    # Renamed again and saved: still its mark, under the id it had two versions ago.
    head = Journey.objects.get(pk=journey.pk).head
    assert head.step_aliases == {"me": ["profile"]}
    state = state_from_document(head.document, head.step_aliases)
    state.steps[2].id = "who"
    save(state, 2)
    assert _marks(client.get(url).content.decode())["who"] == before["profile"]
    # A YAML save knows no renames: the latest version's aliases stay for the steps still there.
    head = Journey.objects.get(pk=journey.pk).head
    assert head.step_aliases == {"who": ["profile"]}
    text = client.get(url + "?view=yaml").content.decode()
    yaml_text = re.search(r'<textarea id="yaml-text"[^>]*>(.*?)</textarea>', text, re.S)
    assert yaml_text is not None
    source = html_module.unescape(yaml_text.group(1)).replace("name: ", "name: Changed ", 1)
    answer = client.post(
        url,
        {"mode": "yaml", "yaml": source, "op": "save", "base_version": "3"},
        headers={"HX-Request": "true"},
    )
    assert _saved(answer), answer.content[:2000]
    assert Journey.objects.get(pk=journey.pk).head.step_aliases == {"who": ["profile"]}
    assert _marks(client.get(url).content.decode())["who"] == before["profile"]


def test_a_send_the_egress_policy_refuses_says_so_in_the_panel(
    client_as: ClientAs, scenario: Scenario, target: Target
) -> None:
    scenario.config.egress_allow_hosts = []
    scenario.config.save()
    client = client_as("owner")
    _send(client, scenario, 0)
    run = Run.objects.get()
    run_execute(run_id=run.pk)
    html = _panel(client, run).content.decode()
    assert target.count("/login") == 0
    assert 'data-testid="send-error"' in html
    assert "egress" in html.lower()
    assert API_KEY not in html


def test_a_send_that_does_not_pass_the_run_check_creates_nothing_and_names_the_problem(
    client_as: ClientAs, scenario: Scenario
) -> None:
    document = copy.deepcopy(THREE_STEPS)
    document["journey"]["steps"][0]["request"]["url"] = "{{ env.missing }}/login"
    answer = _send(client_as("editor"), scenario, 0, document)
    assert answer.status_code == 400
    assert 'data-testid="send-refused"' in answer.content.decode()
    assert "missing" in answer.content.decode()
    assert Run.objects.count() == 0


def test_a_send_of_a_step_that_does_not_exist_is_refused_in_words(
    client_as: ClientAs, scenario: Scenario
) -> None:
    answer = _send(client_as("editor"), scenario, 7)
    assert answer.status_code == 400
    assert "no step 8" in answer.content.decode()
    assert Run.objects.count() == 0


def test_viewers_get_no_send_button_and_editors_do(client_as: ClientAs, scenario: Scenario) -> None:
    url = reverse("journeys:journey_editor", args=[scenario.version.journey_id])
    assert 'data-testid="send-step"' not in client_as("viewer").get(url).content.decode()
    assert 'data-testid="send-step"' in client_as("editor").get(url).content.decode()


def test_a_plain_form_post_of_send_lands_on_the_run_page(
    client_as: ClientAs, scenario: Scenario
) -> None:
    data = post_data(state_from_document(THREE_STEPS))
    data.update({"send_step": "0", "check_environment": str(scenario.environment.pk)})
    url = reverse("dispatch:send", kwargs={"journey_id": scenario.version.journey_id})
    answer = client_as("editor").post(url, data)
    run = Run.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("runs:detail", args=[run.pk])
    assert run.status == RunStatus.QUEUED


@given(statuses=st.lists(st.sampled_from(["passed", "failed", "error", "skipped"]), max_size=60))
def test_the_panel_lists_few_earlier_steps_and_every_one_that_did_not_pass(
    statuses: list[str],
) -> None:
    """Sending step 1,500 listed 1,499 "Passed" lines (119 KB of the page): past ten, only the
    steps that did not pass (at most 30) and the last one are listed; the rest are counted."""
    from reqflo.runners.send_views import SHOWN_BEFORE, SHOWN_NOT_PASSED, _shown_before
    from reqflo.runs.models import StepResult

    before = [StepResult(index=i, step_id=f"s{i}", status=s) for i, s in enumerate(statuses)]
    shown = _shown_before(before)
    assert [r.index for r in shown] == sorted(r.index for r in shown)
    if len(before) <= SHOWN_BEFORE:
        assert shown == before
        return
    assert shown[-1] is before[-1]
    not_passed = [r for r in before[:-1] if r.status != "passed"]
    assert shown[:-1] == not_passed[:SHOWN_NOT_PASSED]


def test_a_send_after_many_steps_counts_those_that_passed(
    client_as: ClientAs, scenario: Scenario, target: Target
) -> None:
    document = copy.deepcopy(THREE_STEPS)
    steps = document["journey"]["steps"]
    echo = steps.pop()
    for n in range(12):
        steps.append({**copy.deepcopy(echo), "id": f"echo{n}"})
    client = client_as("editor")
    _send(client, scenario, len(steps) - 1, document)
    run = Run.objects.get()
    run_execute(run_id=run.pk)
    html = _panel(client, run).content.decode()
    listed = re.findall(r'<li data-step="([^"]+)" data-state="(\w+)"', html)
    assert listed == [("echo10", "passed")], listed  # the one right before the sent step
    assert "and 12 more steps before it that passed" in html
    for n in range(11):  # every step's mark in the editor's list is still updated
        assert f'id="send-mark-echo{n}"' in html
