"""A cloud run keeps exact numbers as JSON numbers wherever the server stores and shows them.

Issue 13's kind "numbers pass through float", on the server side: a number a float cannot
hold (`0.1000000000000000055511151231257827`, `100.10`, `1e400`, 20 digits, `-0`) in a
response body, a journey's expected value and a number input goes through a real cloud run
(``run_execute`` against a loopback target) and comes out with the same digits, unquoted, in
the stored evidence and inputs, the report.json, the JUnit text, the run page and the API, and
the evidence digest chain and the seal still verify.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from reqflo.engine import numbers
from reqflo.journeys.documents import check_text
from reqflo.journeys.models import Environment
from reqflo.journeys.services import environment_create, journey_create
from reqflo.runners.config import runner_config_for
from reqflo.runners.execution import run_execute
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, RunStatus, Trigger
from reqflo.runs.reports import run_json_report, run_junit_report
from reqflo.runs.selectors import verify_run_chain
from tests.api.conftest import ApiClient
from tests.conftest import ClientAs
from tests.loopback import LoopbackServer, serving

pytestmark = pytest.mark.django_db

# Every JSON number text: digits a float cannot hold, trailing zeros, exponents, -0.
JSON_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)

JOURNEY = """
{"journey": {
  "name": "Exact %(n)d",
  "inputs": [{"name": "n", "type": "number", "required": true}],
  "steps": [{
    "id": "price",
    "request": {"method": "POST", "url": "{{ env.base_url }}/price", "json": {"n": "{{ inputs.n }}"}},
    "assertions": [
      {"type": "json_path", "path": "$.n", "operator": "equals", "expected": %(number)s},
      {"type": "json_path", "path": "$.n", "operator": "not_equals", "expected": "{{ inputs.n }}"}
    ]
  }]
}}
"""  # noqa: E501


class Body:
    """The response body the target answers (set per example)."""

    text = "{}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = Body.text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def environment(workspace: Workspace) -> Iterator[Environment]:
    with serving(LoopbackServer(Handler)) as server:
        config = runner_config_for(workspace_id=workspace.pk)
        config.egress_allow_hosts = ["127.0.0.1"]
        config.save()
        yield environment_create(
            workspace=workspace, name="loopback", base_url=server.url, values={}
        )


COUNTER = itertools.count()


def _is_exact(value: Any, number: str) -> bool:
    """Whether ``value`` is a number (not a string) written with exactly ``number``'s digits."""
    return numbers.is_number(value) and numbers.text(value) == number


def _assertions(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    attempts = steps[0]["attempts"]
    return list(attempts[-1]["assertions"])


def _stored(sql: str, run: Run) -> Any:
    """Read a column as the database holds it (its JSON text), parsed exactly."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk])
        rows = [row[0] for row in cursor.fetchall()]
    return [numbers.loads(text) for text in rows]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=JSON_NUMBERS)
@example(number="0.1000000000000000055511151231257827")
@example(number="100.10")
@example(number="1e400")
@example(number="-0")
@example(number="12345678901234567890")
@example(number="9007199254740993")
@example(number="1E+5")
def test_an_exact_number_stays_a_number_with_its_digits_from_run_to_page_report_and_api(
    number: str,
    workspace: Workspace,
    owner: User,
    environment: Environment,
    client_as: ClientAs,
) -> None:
    Body.text = f'{{"n": {number}}}'
    journey = journey_create(
        workspace=workspace,
        author=owner,
        checked=check_text(JOURNEY % {"n": next(COUNTER), "number": number}),
    )
    assert journey.head is not None
    run = run_dispatch(
        workspace=workspace,
        version=journey.head,
        environment=environment,
        trigger=Trigger.API,
        triggered_by=owner,
        inputs={"n": number},
    ).run
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    # equals passed, not_equals failed: both show the number as expected and as actual.
    assert run.status == RunStatus.FAILED, run.error_message

    # Stored: the columns' own JSON text holds numbers, not strings.
    [inputs] = _stored("SELECT inputs::text FROM runs_run WHERE id = %s", run)
    assert _is_exact(inputs["n"], number), inputs
    [evidence] = _stored("SELECT evidence::text FROM runs_stepresult WHERE run_id = %s", run)
    for assertion in _assertions([evidence]):
        assert _is_exact(assertion["expected"], number), assertion
        assert _is_exact(assertion["actual"], number), assertion
    # And as the model reads them.
    assert _is_exact(run.inputs["n"], number)

    # The server's report.json and JUnit.
    report = numbers.loads(run_json_report(run))
    (reported,) = report["runs"]
    assert _is_exact(reported["inputs"]["n"], number)
    for assertion in _assertions(reported["steps"]):
        assert _is_exact(assertion["expected"], number), assertion
        assert _is_exact(assertion["actual"], number), assertion
    junit = run_junit_report(run)
    # The failed assertion's message names both as numbers (a string would be quoted).
    shown = re.escape(number)
    assert re.search(rf"does not equal {shown}, got {shown}(?![\w.])", junit), junit

    # The run page: the input, expected and actual shown as JSON numbers.
    page = client_as("owner").get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert f"<td><code>{number}</code></td>" in page
    assert f'<code data-testid="expected">{number}</code>' in page
    assert f'<code data-testid="actual">{number}</code>' in page

    # The API: the run (inputs), its result and its evidence bundle.
    key = api_token_create(user=owner, workspace=workspace, name=f"t{next(COUNTER)}").key
    api = ApiClient(f"Bearer {key}")
    got = numbers.loads(api.get(f"/runs/{run.pk}").content)
    assert _is_exact(got["inputs"]["n"], number), got["inputs"]
    result = numbers.loads(api.get(f"/runs/{run.pk}/result").content)
    for assertion in _assertions(result["steps"]):
        assert _is_exact(assertion["actual"], number), assertion
    bundle = numbers.loads(api.get(f"/runs/{run.pk}/evidence").content)
    assert _is_exact(bundle["run"]["inputs"]["n"], number)
    for assertion in _assertions([bundle["steps"][0]["evidence"]]):
        assert _is_exact(assertion["expected"], number), assertion

    # The digest chain and the seal verify, with the server's key.
    verdict = json.loads(api.get(f"/runs/{run.pk}/verify").content)
    assert (verdict["verified"], verdict["signed"]) == (True, True), verdict["problems"]


NAN_JOURNEY = """
{"journey": {
  "name": "Not a number",
  "steps": [{
    "id": "price",
    "request": {"method": "POST", "url": "{{ env.base_url }}/price"},
    "assertions": [{"type": "json_path", "path": "$.n", "operator": "exists"}]
  }]
}}
"""


def test_a_nan_or_infinity_in_a_body_is_stored_and_reported_by_name(
    workspace: Workspace, owner: User, environment: Environment
) -> None:
    """JSON has no NaN, but a lenient server sends one (Python's json does): the run is stored
    (not an error at its checkpoint) with the value as the string "NaN", as the digest has it."""
    Body.text = '{"n": NaN, "m": [Infinity, -Infinity]}'
    journey = journey_create(workspace=workspace, author=owner, checked=check_text(NAN_JOURNEY))
    assert journey.head is not None
    run = run_dispatch(
        workspace=workspace,
        version=journey.head,
        environment=environment,
        trigger=Trigger.API,
        triggered_by=owner,
    ).run
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error_message
    [evidence] = _stored("SELECT evidence::text FROM runs_stepresult WHERE run_id = %s", run)
    assert _assertions([evidence])[0]["actual"] == "NaN"
    report = numbers.loads(run_json_report(run))
    assert _assertions(report["runs"][0]["steps"])[0]["actual"] == "NaN"
    assert verify_run_chain(run).ok
