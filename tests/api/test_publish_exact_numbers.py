"""A run published from CI keeps its exact numbers (issue 13, "numbers pass through float").

The CLI sends the evidence with ``numbers.dumps`` (a `100.10` or `1e400` in a response is a JSON
number with its digits) and digests it as such; the server reads it exactly, verifies the chain
and stores the numbers as numbers. A CLI from before sent them as strings: that still verifies.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import numbers
from reqflo.runs.models import Run
from reqflo.runs.selectors import verify_run_chain
from tests.api.conftest import ApiClient
from tests.api.publishing import GITHUB_JOB, published_body, rechained
from tests.conftest import Loopback

pytestmark = pytest.mark.django_db

ApiAs = Callable[[str], ApiClient]
JSON_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)
DOCUMENT = {
    "journey": {
        "name": "Exact publish",
        "steps": [
            {
                "id": "price",
                "request": {"method": "GET", "url": "{{ env.base_url }}/price"},
                "assertions": [{"type": "json_path", "path": "$.n", "operator": "exists"}],
            }
        ],
    }
}


class Body:
    text = "{}"


class Target(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        data = Body.text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def target(loopback: Loopback) -> str:
    return str(loopback(Target).url)


def _publish(api: ApiClient, body: dict[str, Any], key: str) -> Any:
    # As the CLI sends it (reqflo.cli.server): the engine's JSON, numbers exact.
    return api.client.post(
        "/api/v1/ci/runs",
        numbers.dumps(body),
        content_type="application/json",
        headers={**api.headers, "Idempotency-Key": key},
    )


def _stored_actual(run: Run) -> Any:
    with connection.cursor() as cursor:
        cursor.execute("SELECT evidence::text FROM runs_stepresult WHERE run_id = %s", [run.pk])
        row = cursor.fetchone()
    assert row is not None
    return numbers.loads(row[0])["attempts"][-1]["assertions"][0]["actual"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=JSON_NUMBERS)
@example(number="100.10")
@example(number="1e400")
@example(number="-0")
@example(number="0.1000000000000000055511151231257827")
def test_a_published_runs_exact_numbers_verify_and_are_stored_as_numbers(
    number: str, api_as: ApiAs, target: str
) -> None:
    Body.text = f'{{"n": {number}}}'
    # A job of its own per example: one CI key keeps its first run.
    job = dataclasses.replace(GITHUB_JOB, base_key=f"{GITHUB_JOB.base_key}|{uuid.uuid4()}")
    body, key = published_body(DOCUMENT, target, job=job)
    response = _publish(api_as("editor"), body, key)
    assert response.status_code == 201, response.content
    run = Run.objects.get(pk=body["run"]["id"])
    assert verify_run_chain(run).ok
    actual = _stored_actual(run)
    assert numbers.is_number(actual), actual
    assert numbers.text(actual) == number


def test_a_run_published_by_a_cli_from_before_with_numbers_as_text_still_verifies(
    api_as: ApiAs, target: str
) -> None:
    digits = "0.1000000000000000055511151231257827"
    Body.text = f'{{"n": {digits}}}'
    body, key = published_body(DOCUMENT, target)
    old = copy.deepcopy(body)
    for step in old["run"]["steps"]:
        step["evidence"] = numbers.plain(step["evidence"])
    old = rechained(old)
    response = _publish(api_as("editor"), old, key)
    assert response.status_code == 201, response.content
    run = Run.objects.get(pk=body["run"]["id"])
    assert verify_run_chain(run).ok
    assert _stored_actual(run) == digits
    assert json.loads(numbers.dumps(old))["run"]["head_digest"] == run.head_digest
