"""The editor page: form and YAML views, saving, conflicts, Run check and suggestions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from bench.journeys_editor_large import form_fields
from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_text, render_yaml
from reqflo.journeys.editor import state_from_document
from reqflo.journeys.editor.page import moved_to
from reqflo.journeys.models import Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney


def editor_url(journey: Journey) -> str:
    return reverse("journeys:journey_editor", args=[journey.pk])


def form_post(journey: Journey, op: str = "save", **changes: str) -> dict[str, str]:
    """Return the editor form as a browser posts it for the journey's latest version."""
    journey.refresh_from_db()
    data = samples.post_data(state_from_document(journey.head.document))
    data.update(changes)
    return {**data, "base_version": str(journey.head_number), "mode": "form", "op": op}


@pytest.fixture
def journey(make_journey: MakeJourney) -> Journey:
    return make_journey()


# --- Reading -------------------------------------------------------------------------------------


def test_editor_lists_every_step_and_shows_the_fields_of_the_one_picked(
    client_as: ClientAs, journey: Journey
) -> None:
    html = client_as("editor").get(editor_url(journey)).content.decode()
    assert 'data-step-id="s1"' in html
    assert 'data-step-id="s2"' in html
    assert 'name="steps-0-request-url"' in html
    assert 'name="steps-1-request-url"' not in html  # step 2 rides in steps-packed
    assert 'name="steps-packed"' in html
    assert "Save as v2" in html
    assert "Add step" in html
    second = client_as("editor").get(editor_url(journey) + "?step=1").content.decode()
    assert 'name="steps-1-assertions-0-expected"' in second
    assert 'name="steps-0-request-url"' not in second


def test_viewer_reads_the_editor_with_no_edit_controls(
    client_as: ClientAs, journey: Journey
) -> None:
    html = client_as("viewer").get(editor_url(journey)).content.decode()
    assert 'name="steps-0-request-url"' in html  # every field is there to read…
    assert '<fieldset class="stack fieldset-plain" disabled>' in html
    for control in ('id="editor-form" method="post"', 'name="op"', "Save as v", "hx-post"):
        assert control not in html  # …and nothing posts
    assert "only editors and owners change it" in html


def test_viewer_reads_the_yaml_view(client_as: ClientAs, journey: Journey) -> None:
    html = client_as("viewer").get(editor_url(journey) + "?view=yaml").content.decode()
    assert "name: Checkout flow" in html
    assert "Save as v" not in html


# --- Saving --------------------------------------------------------------------------------------


def test_saving_the_form_creates_v2(client_as: ClientAs, journey: Journey) -> None:
    data = form_post(
        journey, **{"steps-0-request-url": "{{ env.base_url }}/changed", "message": "new url"}
    )
    response = client_as("editor").post(editor_url(journey), data)
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.head_number == 2
    assert journey.head.message == "new url"
    assert journey.head.document["journey"]["steps"][0]["request"]["url"].endswith("/changed")


def test_saving_without_changes_creates_no_version_and_says_so(
    client_as: ClientAs, journey: Journey
) -> None:
    response = client_as("editor").post(editor_url(journey), form_post(journey), follow=True)
    journey.refresh_from_db()
    assert journey.head_number == 1
    assert "No changes: v1 is still the latest version." in response.content.decode()


def test_form_edit_then_yaml_view_then_save_gives_the_same_definition(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    client = client_as("editor")
    via_form, via_yaml = make_journey("Form route"), make_journey("Yaml route")
    change = {"steps-1-assertions-0-expected": "[200, 201]", "journey-tags": "smoke, shop"}
    client.post(editor_url(via_form), form_post(via_form, **change))
    # The same edit, then the YAML tab, then Save from the YAML view.
    yaml_page = client.post(editor_url(via_yaml), form_post(via_yaml, op="view_yaml", **change))
    yaml_text = yaml_page.context["page"].yaml_text
    client.post(
        editor_url(via_yaml),
        {"mode": "yaml", "yaml": yaml_text, "base_version": "1", "op": "save"},
    )
    via_form.refresh_from_db()
    via_yaml.refresh_from_db()
    assert (via_form.head_number, via_yaml.head_number) == (2, 2)
    form_doc, yaml_doc = via_form.head.document, via_yaml.head.document
    yaml_doc["journey"]["name"] = form_doc["journey"]["name"]
    assert check_text(render_yaml(form_doc)).digest == check_text(render_yaml(yaml_doc)).digest
    assert via_yaml.head.document["journey"]["steps"][1]["assertions"][0]["expected"] == [200, 201]


def test_saving_the_unchanged_yaml_view_creates_no_version(
    client_as: ClientAs, journey: Journey
) -> None:
    client = client_as("editor")
    text = client.get(editor_url(journey) + "?view=yaml").context["page"].yaml_text
    client.post(editor_url(journey), {"mode": "yaml", "yaml": text, "base_version": "1"})
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_invalid_yaml_keeps_the_text_and_names_the_line(
    client_as: ClientAs, journey: Journey
) -> None:
    broken = "journey:\n  name: [unclosed\n  steps: []\n"
    response = client_as("editor").post(
        editor_url(journey), {"mode": "yaml", "yaml": broken, "base_version": "1", "op": "save"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "name: [unclosed" in html
    assert "invalid YAML at line" in html
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_engine_errors_are_listed_with_their_paths_and_field_links(
    client_as: ClientAs, journey: Journey
) -> None:
    data = form_post(journey, **{"steps-1-assertions-0-operator": "contains"})
    data["steps-1-assertions-0-type"] = "json_path"
    data["steps-1-assertions-0-target"] = "$.[["
    response = client_as("editor").post(editor_url(journey), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "steps[1].assertions[0].path" in html
    assert 'href="#steps-1-assertions-0-target"' in html
    assert 'value="$.[["' in html  # the user's input is kept


def test_a_bad_json_body_keeps_the_text_and_points_at_the_body(
    client_as: ClientAs, journey: Journey
) -> None:
    data = form_post(
        journey, **{"steps-0-request-body_kind": "json", "steps-0-request-body": '{"a": 1,'}
    )
    response = client_as("editor").post(editor_url(journey), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "steps[0].request.json" in html
    assert "{&quot;a&quot;: 1," in html


def test_concurrent_save_is_refused_and_shows_the_diff(
    client_as: ClientAs, journey: Journey
) -> None:
    alice, bob = client_as("owner"), client_as("editor")
    bobs_form = form_post(journey, **{"journey-description": "Bob's words"})
    alice.post(editor_url(journey), form_post(journey, **{"journey-description": "Alice's words"}))
    response = bob.post(editor_url(journey), bobs_form)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone saved v2 while you were editing" in html
    assert "Bob&#x27;s words" in html  # Bob's edit is still in his form
    assert "description changed" in html
    journey.refresh_from_db()
    assert journey.head_number == 2
    assert journey.head.document["journey"]["description"] == "Alice's words"
    # Having seen the diff, Bob saves again on top of v2.
    retry = dict(bobs_form, base_version="2")
    assert bob.post(editor_url(journey), retry).status_code == 302
    journey.refresh_from_db()
    assert journey.head_number == 3
    assert journey.head.document["journey"]["description"] == "Bob's words"


def test_a_save_without_javascript_redirects_to_the_step_being_edited(
    client_as: ClientAs, journey: Journey
) -> None:
    data = form_post(journey, **{"journey-description": "plain post", "step": "1"})
    response = client_as("editor").post(editor_url(journey), data)
    assert response.status_code == 302
    assert response["Location"] == editor_url(journey) + "?step=1"
    assert "HX-Trigger" not in response.headers


def test_a_save_with_htmx_is_answered_in_place_with_the_saved_version(
    client_as: ClientAs, journey: Journey
) -> None:
    client = client_as("editor")
    fields = form_fields(client.get(editor_url(journey)).content.decode())
    data = {
        **fields,
        "op": "save",
        "step": "1",
        "steps-0-name": "Renamed in place",
        "message": "in place",
    }
    response = client.post(editor_url(journey), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Redirect" not in response.headers
    assert json.loads(response.headers["HX-Trigger"]) == {"reqflo:saved": {}}
    # Like any button of the form view: the step's form, the rest out of band, a list patch.
    assert response.headers["HX-Retarget"] == "#step-details"
    html = response.content.decode()
    assert "Saved v2." in html
    header = '<header class="page-header" id="journey-header" hx-swap-oob="innerHTML">'
    assert header in html
    assert "· v2" in html
    assert 'name="base_version" value="2"' in html
    assert "Save as v3" in html
    assert 'id="save-message" name="message" value=""' in html  # the message went with v2
    assert 'name="steps-1-id"' in html  # the step being edited stays on screen
    assert "Renamed in place" in html[html.index('<template id="step-list-patch">') :]
    journey.refresh_from_db()
    assert journey.head_number == 2
    assert journey.head.message == "in place"

    # The same fields again: nothing to save, said in place, and no conflict (base v2 now).
    again = {**data, "base_version": "2"}
    response = client.post(editor_url(journey), again, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "No changes: v2 is still the latest version." in response.content.decode()
    assert json.loads(response.headers["HX-Trigger"]) == {"reqflo:saved": {}}


def test_a_refused_or_conflicting_save_with_htmx_does_not_say_saved(
    client_as: ClientAs, journey: Journey
) -> None:
    client = client_as("editor")
    fields = form_fields(client.get(editor_url(journey)).content.decode())
    broken = {**fields, "op": "save", "steps-0-request-url": "{{ env.base_url"}
    response = client.post(editor_url(journey), broken, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "HX-Trigger" not in response.headers
    client.post(editor_url(journey), {**fields, "op": "save", "journey-description": "first"})
    stale = {**fields, "op": "save", "journey-description": "second"}
    response = client.post(editor_url(journey), stale, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "HX-Trigger" not in response.headers
    assert "journey-header" not in response.content.decode()


def test_a_yaml_save_with_htmx_swaps_the_editor_with_the_saved_version(
    client_as: ClientAs, journey: Journey
) -> None:
    text = render_yaml(journey.head.document).replace("Checkout flow", "Checkout, as YAML", 1)
    response = client_as("editor").post(
        editor_url(journey),
        {"mode": "yaml", "yaml": text, "base_version": "1", "op": "save"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"reqflo:saved": {}}
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="editor"')
    assert 'id="journey-header" hx-swap-oob="innerHTML"' in html
    assert "Checkout, as YAML" in html
    assert "Save as v3" in html


# --- Buttons that change the form without saving -------------------------------------------------


def test_adding_a_step_with_htmx_returns_the_editor_partial_unsaved(
    client_as: ClientAs, journey: Journey
) -> None:
    response = client_as("editor").post(
        editor_url(journey), form_post(journey, op="add_step"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'name="steps-2-id" value="step-3"' in html
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_buttons_work_without_javascript(client_as: ClientAs, journey: Journey) -> None:
    response = client_as("editor").post(editor_url(journey), form_post(journey, op="move_down:0"))
    html = response.content.decode()
    assert "<html" in html
    assert html.index('data-step-id="s2"') < html.index('data-step-id="s1"')
    assert 'id="steps-1-id" name="steps-1-id" value="s1"' in html  # the moved step stays shown


def test_switching_from_yaml_to_form_keeps_unsaved_yaml_edits(
    client_as: ClientAs, journey: Journey
) -> None:
    text = render_yaml(samples.edited(journey.head.document, name="Edited in YAML"))
    response = client_as("editor").post(
        editor_url(journey), {"mode": "yaml", "yaml": text, "base_version": "1", "op": "view_form"}
    )
    assert response.context["page"].mode == "form"
    assert 'value="Edited in YAML"' in response.content.decode()


# --- Run check and suggestions -------------------------------------------------------------------


def test_run_check_lists_unknown_references_with_links(
    client_as: ClientAs, journey: Journey
) -> None:
    data = form_post(journey, **{"steps-0-request-url": "{{ env.base_url }}/{{ inputs.missing }}"})
    response = client_as("editor").post(reverse("journeys:journey_check", args=[journey.pk]), data)
    html = response.content.decode()
    assert 'id="run-check"' in html
    assert "steps[0].request.url" in html
    assert 'href="#steps-0-request-url"' in html


# What the form cannot read (its own problems), and what the engine finds in the rest.
READING_PROBLEMS = {
    "nameless header row": ({"steps-0-request-headers-5-value": "Bearer x"}, "headers"),
    "nameless query row": ({"steps-0-request-query-5-value": "x"}, "query"),
    "text timeout": ({"steps-0-timeout_ms": "soon"}, "steps[0].timeout_ms"),
    "json body": (
        {"steps-0-request-body_kind": "json", "steps-0-request-body": '{"a": 1,'},
        "steps[0].request.json",
    ),
}
ENGINE_PROBLEMS = {
    "unclosed reference": ("{{ env.base_url }}/{{ zz", "never closed"),
    "unknown input": ("{{ env.base_url }}/{{ inputs.missing }}", "unknown input"),
}


@pytest.mark.parametrize("reading", READING_PROBLEMS.values(), ids=list(READING_PROBLEMS))
@pytest.mark.parametrize("engine", ENGINE_PROBLEMS.values(), ids=list(ENGINE_PROBLEMS))
def test_run_check_names_the_rest_of_the_journey_beside_what_the_form_cannot_read(
    client_as: ClientAs, journey: Journey, reading: tuple[dict[str, str], str], engine: tuple
) -> None:
    """A half-filled row does not hide another step's problem: the Run check names both, as a
    save does (a verifier saw an unclosed "{{" vanish once a header value had no name)."""
    changes, reading_words = reading
    url, engine_words = engine
    data = form_post(journey, "check", **changes, **{"steps-1-request-url": url})
    response = client_as("editor").post(reverse("journeys:journey_check", args=[journey.pk]), data)
    card = response.content.decode()
    card = card[card.index('id="run-check"') :]
    assert reading_words in card
    assert engine_words in card
    assert 'data-anchor="steps-1-request-url"' in card


@pytest.mark.parametrize(
    "half_filled",
    [
        {"steps-0-assertions-7-type": "json_path", "steps-0-assertions-7-target": ""},
        {"steps-0-request-method": "FETCH"},
    ],
    ids=["empty assertion row", "bad method"],
)
def test_run_check_names_missing_env_values_and_secrets_while_a_row_is_half_filled(
    client_as: ClientAs, journey: Journey, workspace: Workspace, half_filled: dict[str, str]
) -> None:
    """A verifier typed `{{ env.nopeZ }}` in a new step while another row was half filled:
    the journey was not a definition yet and the Run check said nothing about it."""
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    data = form_post(
        journey,
        "check",
        **half_filled,
        **{
            "steps-1-request-url": "{{ env.base_url }}/{{ env.nopeZ }}",
            "steps-1-request-headers-0-name": "X-Key",
            "steps-1-request-headers-0-value": "{{ secrets.api_key }}",
        },
    )
    response = client_as("editor").post(reverse("journeys:journey_check", args=[journey.pk]), data)
    card = response.content.decode()
    card = card[card.index('id="run-check"') :]
    assert "steps[0]" in card  # the half-filled row's own problem
    assert "the environment has no value &#x27;nopeZ&#x27;" in card
    assert 'data-anchor="steps-1-request-url"' in card
    assert "Missing secret api_key" in card
    assert 'data-anchor="steps-1-request-headers-0-value"' in card


def test_run_check_reports_missing_secrets_and_env_values(
    client_as: ClientAs, journey: Journey, workspace: Workspace
) -> None:
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    data = form_post(
        journey,
        **{
            "steps-0-request-headers-0-name": "X-Key",
            "steps-0-request-headers-0-value": "{{ secrets.api_key }}",
            "steps-0-request-headers-1-name": "X-Region",
            "steps-0-request-headers-1-value": "{{ env.region }}",
        },
    )
    html = (
        client_as("editor")
        .post(reverse("journeys:journey_check", args=[journey.pk]), data)
        .content.decode()
    )
    assert "api_key" in html
    assert "region" in html


def test_run_check_is_clean_for_a_good_journey(
    client_as: ClientAs, journey: Journey, workspace: Workspace
) -> None:
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    html = client_as("editor").get(editor_url(journey)).content.decode()
    assert 'data-testid="check-ok"' in html


def test_suggestions_list_only_what_is_in_scope_for_the_step(
    client_as: ClientAs, make_journey: MakeJourney
) -> None:
    steps = [
        samples.step("login", outputs={"token": {"from": "body", "path": "$.token"}}),
        samples.step("order"),
    ]
    journey = make_journey("Scoped", steps=steps, inputs=[{"name": "email"}])
    url = reverse("journeys:journey_suggest", args=[journey.pk])
    client = client_as("editor")
    base = form_post(journey)

    def suggest(field: str, prefix: str = "") -> str:
        return client.post(url, {**base, "suggest_field": field, "prefix": prefix}).content.decode()

    later = suggest("steps-1-request-url")
    assert "steps.login.outputs.token" in later
    assert "inputs.email" in later
    assert "env.base_url" in later
    assert "steps.login.outputs.token" not in suggest("steps-0-request-url")
    filtered = suggest("steps-1-request-url", "inp")
    assert "inputs.email" in filtered
    assert "env.base_url" not in filtered


def test_other_workspace_journeys_are_404_even_for_owners_elsewhere(
    client_as: ClientAs, make_journey: MakeJourney, other_workspace: Workspace, owner: User
) -> None:
    foreign = make_journey("Foreign", in_workspace=other_workspace)
    assert client_as("owner").get(editor_url(foreign)).status_code == 404


# --- Bad input never breaks the page -------------------------------------------------------------

BAD_POSTS = {
    "garbage base version": {"base_version": "v2"},
    "unknown button": {"op": "launch_missiles:1"},
    "yaml list": {"mode": "yaml", "yaml": "- just\n- a list\n"},
    "yaml scalar to form": {"mode": "yaml", "yaml": "hello", "op": "view_form"},
    "yaml tabs": {"mode": "yaml", "yaml": "journey:\n\tname: x\n"},
    "yaml without steps": {"mode": "yaml", "yaml": "journey: {name: x}\n"},
    "bad step id": {"steps-0-id": "Has Spaces"},
    "text timeout": {"steps-0-timeout_ms": "soon"},
    "negative retries": {"steps-0-retries-count": "-3"},
    "unknown method": {"steps-0-request-method": "FETCH"},
    "unknown check type": {"steps-0-assertions-0-type": "vibes"},
    "unknown operator": {"steps-0-assertions-0-operator": "roughly"},
    "unknown output source": {"steps-1-outputs-0-name": "x", "steps-1-outputs-0-source": "aura"},
    "damaged hidden field": {"steps-0-extra": "{not json"},
    "schema not json": {
        "steps-0-assertions-0-type": "json_schema",
        "steps-0-assertions-0-expected": "{type: object",
    },
    "empty name": {"journey-name": ""},
}


@pytest.mark.parametrize("changes", BAD_POSTS.values(), ids=list(BAD_POSTS))
def test_bad_editor_input_is_answered_in_words_and_saves_nothing(
    client_as: ClientAs, journey: Journey, changes: dict[str, str]
) -> None:
    data = {**form_post(journey), **changes}
    response = client_as("editor").post(editor_url(journey), data)
    assert response.status_code in (200, 400, 409)
    html = response.content.decode()
    assert "Traceback" not in html
    if response.status_code == 400:
        assert 'id="save-problems"' in html
    journey.refresh_from_db()
    assert journey.head_number == 1


def test_yaml_view_problems_name_their_line(client_as: ClientAs, journey: Journey) -> None:
    text = render_yaml(journey.head.document).replace("status_code", "status_cod", 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "status_cod" in row)
    response = client_as("editor").post(
        editor_url(journey), {"mode": "yaml", "yaml": text, "base_version": "1", "op": "save"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"steps[0].assertions[0].type</code> (line {line})" in html
    assert f'data-line="{line}"' in html
    assert 'href="#yaml-text"' in html


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"properties": {"$id": {"type": "string"}}}, None),
        (
            {"properties": {"enum": {"$ref": "http://127.0.0.1:9/x"}}},
            "steps[0].assertions[0].schema.properties.enum.$ref",
        ),
        (
            {"$defs": {"default": {"$ref": "file:///etc/hostname"}}},
            "steps[0].assertions[0].schema.$defs.default.$ref",
        ),
    ],
)
def test_the_editor_shows_a_journey_whose_schema_names_properties_after_keywords(
    client_as: ClientAs, make_journey: MakeJourney, schema: dict[str, Any], shown: str | None
) -> None:
    step = {
        "id": "check",
        "request": {"method": "GET", "url": "https://api.example.test/x"},
        "assertions": [{"type": "json_schema", "schema": schema}],
    }
    journey = make_journey("Keyword names", steps=[step])

    response = client_as("editor").get(editor_url(journey))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="run-check"' in html
    if shown is not None:
        assert shown in html


def _is_whole_number(text: str) -> bool:
    try:
        int(text.strip())
    except ValueError:
        return False
    return True


@given(position=st.text(max_size=6) | st.integers(-5, 20).map(str), step=st.integers(0, 4))
def test_a_typed_position_is_a_move_within_the_journey_or_none(position: str, step: int) -> None:
    operation = moved_to(f"move_to:{step}", position, count=5)
    if operation == "refresh":
        assert not _is_whole_number(position)
        return
    name, start, target = operation.split(":")
    assert (name, int(start)) == ("move_step", step)
    assert 0 <= int(target) < 5
    assert int(target) == min(max(int(position.strip()), 1), 5) - 1


def test_the_position_field_moves_the_step_and_shows_it_there(
    client_as: ClientAs, journey: Journey
) -> None:
    ids = [step["id"] for step in journey.head.document["journey"]["steps"]]
    data = form_post(journey, "move_to:0", move_to=str(len(ids)))
    response = client_as("editor").post(editor_url(journey), data)
    page = response.context["page"]
    assert [step.id for step in page.state.steps] == [*ids[1:], ids[0]]
    assert page.selected == len(ids) - 1


def test_back_to_the_form_with_the_yaml_as_shown_reads_no_yaml(
    client_as: ClientAs, journey: Journey
) -> None:
    """The YAML view of a 1,500-step journey took 0.3-0.8 s to parse on the way back: the text
    as it was shown is the document it was shown from; an edited text is read again."""
    from reqflo.journeys.editor.page import RENDERED

    client = client_as("editor")
    shown = client.post(editor_url(journey), form_post(journey, "view_yaml"))
    text = shown.context["page"].yaml_text
    assert RENDERED.read(text) is RENDERED.read(text)  # remembered: no new parse
    edited = text.replace(f"name: {journey.name}", "name: Edited in YAML", 1)
    assert RENDERED.read(edited) is not RENDERED.read(edited)  # read each time
    for yaml_text, name in ((text, journey.name), (edited, "Edited in YAML")):
        data = {"mode": "yaml", "yaml": yaml_text.replace("\n", "\r\n"), "base_version": "1"}
        back = client.post(editor_url(journey), {**data, "op": "view_form"})
        assert back.context["page"].mode == "form"
        assert back.context["page"].state.name == name
