"""Journeys → Import takes a Reqflo journey's own YAML or JSON (a verifier found only New
journey did): preview names it, create saves it as v1 unchanged, a bad document names every
problem."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import render_yaml
from reqflo.journeys.models import Journey
from tests.conftest import ClientAs

URL = "journeys:journey_import"
YAML = """\
journey:
  name: Orders round trip
  steps:
    - id: login
      request:
        method: POST
        url: "{{ env.base_url }}/login"
        headers: {Authorization: "Bearer {{ secrets.shop_token }}"}
      outputs:
        session: {from: body, path: $.session}
    - id: orders
      request:
        method: GET
        url: "{{ env.base_url }}/orders?session={{ steps.login.outputs.session }}"
      assertions:
        - {type: status_code, expected: 200}
"""


def test_a_preview_names_the_journey_and_its_secrets_and_saves_nothing(
    client_as: ClientAs, workspace: Workspace
) -> None:
    response = client_as("editor").post(
        reverse(URL), {"kind": "reqflo", "text": YAML, "action": "preview"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Import report: 1 journey (2 steps)" in html
    assert "Orders round trip" in html
    assert "orders-round-trip" in html
    assert "<code>shop_token</code>" in html
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_create_saves_the_document_as_it_was_written(
    client_as: ClientAs, workspace: Workspace
) -> None:
    response = client_as("editor").post(
        reverse(URL), {"kind": "reqflo", "text": YAML, "action": "create"}
    )

    assert response.status_code == 302
    journey = Journey.objects.get(workspace=workspace, slug="orders-round-trip")
    version = journey.versions.get(number=1)
    steps = version.document["journey"]["steps"]
    assert [step["id"] for step in steps] == ["login", "orders"]
    assert steps[0]["request"]["headers"] == {"Authorization": "Bearer {{ secrets.shop_token }}"}
    assert version.message.startswith("Imported from Reqflo journey: 1 journey (2 steps)")


def test_a_journey_exported_as_yaml_comes_back_identical_under_the_next_free_slug(
    client_as: ClientAs, workspace: Workspace, editor: User
) -> None:
    original = services.journey_create_from_sample(workspace=workspace, author=editor)
    first = original.versions.get(number=1)
    for text in (render_yaml(first.document), json.dumps(first.document)):
        response = client_as("editor").post(
            reverse(URL), {"kind": "reqflo", "text": text, "action": "create"}
        )
        assert response.status_code == 302
    copies = Journey.objects.filter(workspace=workspace).exclude(pk=original.pk)
    assert sorted(copies.values_list("slug", flat=True)) == [
        f"{original.slug}-2",
        f"{original.slug}-3",
    ]
    for copy in copies:
        journey = dict(copy.versions.get(number=1).document["journey"])
        assert journey.pop("slug") == copy.slug
        assert journey == {k: v for k, v in first.document["journey"].items() if k != "slug"}


def test_a_document_that_is_not_a_journey_names_every_problem_and_keeps_the_text(
    client_as: ClientAs, workspace: Workspace
) -> None:
    broken = YAML.replace("method: GET", "method: FETCH").replace("id: orders", "id: login")
    response = client_as("editor").post(
        reverse(URL), {"kind": "reqflo", "text": broken, "action": "create"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing can be imported from this source" in html
    assert "not a valid Reqflo journey" in html
    assert "steps[1].request.method" in html
    assert "steps[1].id" in html
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_a_yaml_syntax_error_names_its_line(client_as: ClientAs) -> None:
    response = client_as("editor").post(
        reverse(URL),
        {"kind": "reqflo", "text": "journey:\n  name: x\n  steps: [\n", "action": "preview"},
    )

    assert response.status_code == 400
    assert "line 3" in response.content.decode() or "line 4" in response.content.decode()
