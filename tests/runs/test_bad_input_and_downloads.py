"""Bad input on run pages is a clear 400 naming what and where; a stored body downloads safely."""

from __future__ import annotations

import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from django.urls import reverse

from reqflo.runners.execution import run_execute
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import Run, Trigger
from tests.conftest import ClientAs, Loopback
from tests.runs.fixtures import MakeScenario, Target
from tests.runs.pages import PAGES_JOURNEY, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]


class _Typed(BaseHTTPRequestHandler):
    """Answers ``/<n>`` with the n-th (header name, value) of ``TYPES``."""

    TYPES = [
        ("content-TYPE", "application/problem+json; charset=iso-8859-1"),
        ("Content-Type", "text/html"),
        ("Content-Type", "not a type <script>"),
        ("X-Other", "none"),
    ]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        name, value = self.TYPES[int(self.path.strip("/"))]
        body = '{"é": "<b>x</b>"}'.encode("latin-1")
        self.send_response(200)
        self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(
    ("case", "content_type", "extension"),
    [
        (0, "application/problem+json; charset=utf-8", ".txt"),
        (1, "text/html; charset=utf-8", ".html"),
        (2, "text/plain; charset=utf-8", ".txt"),
        (3, "text/plain; charset=utf-8", ".txt"),
    ],
)
def test_a_stored_body_downloads_with_its_recorded_type_as_a_safe_attachment(
    client_as: ClientAs,
    make_scenario: MakeScenario,
    loopback: Loopback,
    case: int,
    content_type: str,
    extension: str,
) -> None:
    server = loopback(_Typed)
    step = {"id": "typed", "request": {"method": "GET", "url": f"{server.url}/{case}"}}
    scenario = make_scenario({"journey": {"name": "Typed", "steps": [step]}}, secret=False)
    run = run_dispatch(
        workspace=scenario.workspace,
        version=scenario.version,
        environment=scenario.environment,
        trigger=Trigger.API,
    ).run
    run_execute(run_id=run.pk)
    response = client_as("viewer").get(reverse("runs:body", kwargs={"run_id": run.pk, "index": 0}))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert disposition.endswith(f'{extension}"')
    text = response.content.decode("utf-8")
    assert text.endswith('": "<b>x</b>"}')
    if case == 0:  # decoded from its declared charset when stored, sent as UTF-8
        assert text == '{"é": "<b>x</b>"}'


@pytest.fixture
def run(make_scenario: MakeScenario, target: Target) -> Run:
    return finished_run(make_scenario(PAGES_JOURNEY))


@pytest.mark.parametrize("name", ["runs:list", "runs:journey_runs"])
@pytest.mark.parametrize("cursor", ["garbage", "bm90IGEgY3Vyc29y", "%%%"])
def test_a_bad_history_page_link_is_a_400_that_says_so(
    client_as: ClientAs, run: Run, name: str, cursor: str
) -> None:
    kwargs = {"journey_id": run.journey_version.journey_id} if name == "runs:journey_runs" else {}
    response = client_as("viewer").get(reverse(name, kwargs=kwargs), {"after": cursor})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="cursor-error"' in html
    assert "The page link&#x27;s &#x27;after&#x27; parameter" in html
    assert f'data-run="{run.pk}"' in html  # the newest runs, instead
    fragment = client_as("viewer").get(
        reverse(name, kwargs=kwargs), {"after": cursor}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 400
    assert fragment.content.decode().lstrip().startswith('<div id="run-table"')


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({}, "&#x27;a&#x27; is missing; &#x27;b&#x27; is missing"),
        ({"a": "nope"}, "&#x27;a&#x27; is not a run id (&#x27;nope&#x27;)"),
    ],
)
def test_compare_without_two_run_ids_is_a_400_naming_the_parameter(
    client_as: ClientAs, params: dict[str, str], said: str
) -> None:
    response = client_as("viewer").get(reverse("runs:compare"), params)
    assert response.status_code == 400
    assert said in response.content.decode()


def test_compare_of_an_unknown_run_is_the_apps_404_page(client_as: ClientAs, run: Run) -> None:
    for a, b in ((uuid.uuid4(), run.pk), (run.pk, uuid.uuid4())):
        response = client_as("viewer").get(reverse("runs:compare"), {"a": a, "b": b})
        html = response.content.decode()
        assert response.status_code == 404
        assert "<title>Not found · Reqflo</title>" in html
        assert "Page not found" in html
