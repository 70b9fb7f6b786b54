"""Journeys list and create, version history, diff, restore, export, cases and environments."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text
from reqflo.journeys.models import Case, Environment, Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney


def second_version(journey: Journey, owner: User, **changes: object) -> None:
    services.journey_version_create(
        journey=journey,
        author=owner,
        checked=check_document(samples.edited(journey.head.document, **changes)),
        base_number=journey.head_number,
    )
    journey.refresh_from_db()


# --- List ----------------------------------------------------------------------------------------


@pytest.fixture
def three(make_journey: MakeJourney) -> list[Journey]:
    journeys = [
        make_journey("Checkout flow", tags=["smoke"]),
        make_journey("Refund flow", tags=["payments"]),
        make_journey("Old flow"),
    ]
    services.journey_set_archived(journey=journeys[2], archived=True)
    return journeys


def names(html: str) -> list[str]:
    return [n for n in ("Checkout flow", "Refund flow", "Old flow") if f">{n}</a>" in html]


def test_list_hides_archived_journeys_by_default(client_as: ClientAs, three: list[Journey]) -> None:
    html = client_as("viewer").get(reverse("journeys:journey_list")).content.decode()
    assert names(html) == ["Checkout flow", "Refund flow"]
    assert "v1" in html


def test_list_filters_by_search_tag_and_archived(client_as: ClientAs, three: list[Journey]) -> None:
    client, url = client_as("viewer"), reverse("journeys:journey_list")
    assert names(client.get(url, {"q": "refund"}).content.decode()) == ["Refund flow"]
    assert names(client.get(url, {"tag": "smoke"}).content.decode()) == ["Checkout flow"]
    assert names(client.get(url, {"tag": "smo"}).content.decode()) == []  # whole tags only
    assert names(client.get(url, {"archived": "1"}).content.decode()) == ["Old flow"]


def test_list_search_with_htmx_returns_only_the_table(
    client_as: ClientAs, three: list[Journey]
) -> None:
    response = client_as("viewer").get(
        reverse("journeys:journey_list"), {"q": "check"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="journey-table">')
    assert names(html) == ["Checkout flow"]


# --- Create --------------------------------------------------------------------------------------


def test_create_a_blank_journey_opens_its_editor(client_as: ClientAs, workspace: Workspace) -> None:
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "blank", "name": "Signup"}
    )
    journey = Journey.objects.get(workspace=workspace, slug="signup")
    assert response["Location"] == reverse("journeys:journey_editor", args=[journey.pk])
    assert journey.head.document["journey"]["steps"][0]["id"] == "step-1"


def test_create_from_the_demo_sample(client_as: ClientAs, workspace: Workspace) -> None:
    client_as("editor").post(reverse("journeys:journey_create"), {"source": "sample"})
    journey = Journey.objects.get(workspace=workspace, slug="checkout")
    assert [s["id"] for s in journey.head.document["journey"]["steps"]] == [
        "login",
        "cart",
        "add_item",
        "checkout",
        "order",
    ]


def test_creating_from_the_sample_twice_picks_a_free_slug(
    client_as: ClientAs, workspace: Workspace
) -> None:
    client = client_as("editor")
    client.post(reverse("journeys:journey_create"), {"source": "sample"})
    response = client.post(reverse("journeys:journey_create"), {"source": "sample"}, follow=True)
    assert "Created Checkout flow (2) (v1)." in response.content.decode()
    second = Journey.objects.get(workspace=workspace, slug="checkout-2")
    assert second.name == "Checkout flow (2)"
    assert second.head.document["journey"]["slug"] == "checkout-2"
    assert len(second.head.document["journey"]["steps"]) == 5


def test_an_uploaded_file_with_a_yaml_syntax_error_names_the_line(
    client_as: ClientAs, workspace: Workspace
) -> None:
    broken = samples.LOGIN_YAML.replace("method: POST", "method: [POST")
    upload = SimpleUploadedFile("login.yaml", broken.encode())
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "import", "file": upload}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="import-problems"' in html
    assert "invalid YAML at line" in html
    assert "method: [POST" in html  # the file's text is kept in the box, ready to fix
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_an_uploaded_json_file_with_schema_errors_lists_every_path(
    client_as: ClientAs, workspace: Workspace
) -> None:
    document = samples.document(steps=2)
    document["journey"]["steps"][0]["request"]["method"] = "FETCH"
    document["journey"]["steps"][1]["assertions"][0]["operator"] = "equal"
    upload = SimpleUploadedFile("flow.json", json.dumps(document).encode())
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "import", "file": upload}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<code>steps[0].request.method</code>" in html
    assert "<code>steps[1].assertions[0].operator</code>" in html
    assert "did you mean &#x27;equals&#x27;?" in html


def test_import_a_yaml_file(client_as: ClientAs, workspace: Workspace) -> None:
    upload = SimpleUploadedFile("login.yaml", samples.LOGIN_YAML.encode())
    client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "import", "file": upload}
    )
    journey = Journey.objects.get(workspace=workspace, slug="login-check")
    assert journey.head.message == "Imported"


def test_an_invalid_import_shows_paths_and_keeps_the_text(
    client_as: ClientAs, workspace: Workspace
) -> None:
    text = samples.LOGIN_YAML.replace("status_code", "status_cod")
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "import", "text": text}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "steps[0].assertions[0].type" in html
    assert "did you mean &#x27;status_code&#x27;?" in html
    assert "{type: status_cod, expected: 200}" in html
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_a_taken_slug_is_a_clear_error(client_as: ClientAs, make_journey: MakeJourney) -> None:
    make_journey("Signup")
    response = client_as("editor").post(
        reverse("journeys:journey_create"), {"source": "blank", "name": "Signup"}
    )
    assert response.status_code == 400
    assert "already exists in this workspace" in response.content.decode()


def test_an_imported_file_whose_slug_is_taken_gets_the_next_free_one(
    client_as: ClientAs, workspace: Workspace
) -> None:
    """A verifier imported a journey whose name was taken: the error said "slug … choose
    another name", with no slug field to change (and Name is for blank journeys). An import
    takes the next free slug, as Journeys → Import does, and says so."""
    client = client_as("editor")
    for _ in range(2):
        response = client.post(
            reverse("journeys:journey_create"),
            {"source": "import", "text": samples.LOGIN_YAML},
            follow=True,
        )
        assert response.status_code == 200
    slugs = sorted(Journey.objects.filter(workspace=workspace).values_list("slug", flat=True))
    assert len(slugs) == 2
    assert slugs[1] == slugs[0] + "-2"
    html = response.content.decode()
    assert f"The slug {slugs[0]} was taken: this journey&#x27;s is {slugs[1]}." in html


# --- History, diff, restore, export --------------------------------------------------------------


def test_history_lists_versions_newest_first(
    client_as: ClientAs, make_journey: MakeJourney, owner: User
) -> None:
    journey = make_journey()
    second_version(journey, owner, description="v2 words")
    html = (
        client_as("viewer")
        .get(reverse("journeys:journey_history", args=[journey.pk]))
        .content.decode()
    )
    assert html.index('id="version-2"') < html.index('id="version-1"')
    assert "owner@acme.test" in html
    assert "Restore" not in html  # viewers get no restore buttons


def test_diff_summarises_steps_and_shows_yaml_lines(
    client_as: ClientAs, make_journey: MakeJourney, owner: User
) -> None:
    journey = make_journey(steps=2)
    steps = journey.head.document["journey"]["steps"]
    second_version(journey, owner, steps=[steps[0], samples.step("s3")])
    response = client_as("viewer").get(
        reverse("journeys:version_diff", args=[journey.pk]), {"from": 1, "to": 2}
    )
    html = response.content.decode()
    assert "Steps: 1 added, 1 removed." in html
    assert 'data-step="s3"' in html
    assert "- id: s3" in html


def test_diff_of_unknown_versions_is_404(client_as: ClientAs, make_journey: MakeJourney) -> None:
    journey = make_journey()
    url = reverse("journeys:version_diff", args=[journey.pk])
    assert client_as("viewer").get(url, {"from": 1, "to": 9}).status_code == 404


def test_restore_creates_a_new_version_with_the_old_content(
    client_as: ClientAs, make_journey: MakeJourney, owner: User
) -> None:
    journey = make_journey()
    second_version(journey, owner, name="Renamed")
    response = client_as("editor").post(
        reverse("journeys:version_restore", args=[journey.pk, 1]),
        {"base_version": "2"},
        follow=True,
    )
    assert "Restored v1 as v3." in response.content.decode()
    journey.refresh_from_db()
    assert journey.head_number == 3
    assert journey.name == "Checkout flow"


def test_restore_on_a_stale_page_is_refused(
    client_as: ClientAs, make_journey: MakeJourney, owner: User
) -> None:
    journey = make_journey()
    second_version(journey, owner, name="Renamed")
    response = client_as("editor").post(
        reverse("journeys:version_restore", args=[journey.pk, 1]),
        {"base_version": "1"},
        follow=True,
    )
    assert "was saved since you opened this page" in response.content.decode()
    journey.refresh_from_db()
    assert journey.head_number == 2


def test_export_downloads_the_version_as_yaml(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey()
    response = client_as("viewer").get(reverse("journeys:version_export", args=[journey.pk, 1]))
    assert response["Content-Disposition"] == 'attachment; filename="checkout-flow-v1.yaml"'
    assert check_text(response.content.decode()).digest == journey.head.digest


def test_version_detail_is_read_only_yaml(client_as: ClientAs, make_journey: MakeJourney) -> None:
    journey = make_journey()
    html = (
        client_as("viewer")
        .get(reverse("journeys:version_detail", args=[journey.pk, 1]))
        .content.decode()
    )
    assert "name: Checkout flow" in html
    assert "<textarea" not in html


# --- Cases ---------------------------------------------------------------------------------------


def test_new_case_form_is_prefilled_with_input_defaults(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey(inputs=[{"name": "sku", "default": "tea-01"}, {"name": "email"}])
    html = (
        client_as("editor").get(reverse("journeys:case_list", args=[journey.pk])).content.decode()
    )
    assert "sku=tea-01\nemail=" in html


def test_creating_a_case_with_a_taken_name_shows_the_error(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey()
    services.case_create(journey=journey, name="Happy path", values={})
    response = client_as("editor").post(
        reverse("journeys:case_list", args=[journey.pk]),
        {"name": "Happy path", "values": "q=1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "already has a case named &#x27;Happy path&#x27;" in response.content.decode()
    assert Case.objects.filter(journey=journey).count() == 1


def test_case_actions_with_htmx_return_the_cases_partial(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    case = services.case_create(journey=make_journey(), name="Happy", values={"q": "1"})
    response = client_as("editor").post(
        reverse("journeys:case_duplicate", args=[case.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="cases"')
    assert 'data-name="Happy (copy)"' in html


def test_bad_case_values_name_the_line(client_as: ClientAs, make_journey: MakeJourney) -> None:
    journey = make_journey()
    response = client_as("editor").post(
        reverse("journeys:case_list", args=[journey.pk]), {"name": "X", "values": "q=1\nnonsense"}
    )
    assert response.status_code == 400
    assert "Line 2 should read name=value." in response.content.decode()


# --- Environments --------------------------------------------------------------------------------


def test_environment_base_url_must_be_http_with_a_clear_message(
    client_as: ClientAs, workspace: Workspace
) -> None:
    response = client_as("owner").post(
        reverse("journeys:environment_list"),
        {"name": "prod", "base_url": "ftp://files.example.test", "values": ""},
    )
    assert response.status_code == 400
    assert "Enter an http:// or https:// URL" in response.content.decode()
    assert not Environment.objects.filter(workspace=workspace).exists()


def test_environment_values_are_saved_and_shown(client_as: ClientAs, workspace: Workspace) -> None:
    client = client_as("owner")
    client.post(
        reverse("journeys:environment_list"),
        {"name": "prod", "base_url": "https://api.example.test", "values": "region=eu\ntier=gold"},
    )
    environment = Environment.objects.get(workspace=workspace, name="prod")
    assert environment.values == {"region": "eu", "tier": "gold"}
    assert (
        "region=eu"
        in client_as("viewer").get(reverse("journeys:environment_list")).content.decode()
    )


def test_renaming_an_environment_to_a_taken_name_is_refused(
    client_as: ClientAs, workspace: Workspace
) -> None:
    services.environment_create(
        workspace=workspace, name="prod", base_url="https://a.test", values={}
    )
    staging = services.environment_create(
        workspace=workspace, name="staging", base_url="https://b.test", values={}
    )
    response = client_as("owner").post(
        reverse("journeys:environment_edit", args=[staging.pk]),
        {"name": "prod", "base_url": "https://b.test", "values": ""},
    )
    assert response.status_code == 400
    assert "already has an environment named &#x27;prod&#x27;" in response.content.decode()


def test_archiving_from_the_journey_header_and_restoring(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    journey = make_journey()
    client = client_as("editor")
    page = client.get(reverse("journeys:journey_editor", args=[journey.pk])).content.decode()
    assert "Archive journey" in page
    client.post(reverse("journeys:journey_archive", args=[journey.pk]), {"archived": "1"})
    journey.refresh_from_db()
    assert journey.archived
    page = client.get(reverse("journeys:journey_editor", args=[journey.pk])).content.decode()
    assert "Restore journey" in page
    client.post(reverse("journeys:journey_archive", args=[journey.pk]), {"archived": "0"})
    journey.refresh_from_db()
    assert not journey.archived
    viewer_page = client_as("viewer").get(reverse("journeys:journey_editor", args=[journey.pk]))
    assert "Archive journey" not in viewer_page.content.decode()


def test_version_page_outlines_the_steps_in_words(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    journey = services.journey_create(
        workspace=workspace, author=owner, checked=check_text(samples.LOGIN_YAML)
    )
    html = (
        client_as("viewer")
        .get(reverse("journeys:version_detail", args=[journey.pk, 1]))
        .content.decode()
    )
    outline = html[html.index('id="step-outline"') : html.index("</table>")]
    assert 'data-step="login"' in outline
    assert "POST" in outline
    assert "{{ env.base_url }}/login" in outline
    assert "<code>token</code>" in outline
