"""A journey's default runner: explicit > journey default > workspace default, everywhere.

The rule (``reqflo.runners.labels.route_for``) for every combination, the dispatch service and
the Run panel's form with its access matrix (the API's endpoint: tests/api/test_api_behaviour.py,
and its access in tests/api/test_api_access.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from reqflo.journeys.models import Journey
from reqflo.runners.labels import Route, journey_runner_set, route_for
from reqflo.runners.models import RunnerConfig
from reqflo.runners.services import run_dispatch
from reqflo.runs.models import RunnerKind, Trigger
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario

CLOUD = Route(RunnerKind.CLOUD)
# (runner, labels) as a dispatch, a journey or a workspace may say it; None: says nothing.
SAYS = st.sampled_from([None, ("cloud", []), ("self_hosted", []), ("self_hosted", ["eu", "vpn"])])


def _route(said: tuple[str, list[str]]) -> Route:
    kind = RunnerKind.SELF_HOSTED if said[0] == "self_hosted" else RunnerKind.CLOUD
    return Route(kind, tuple(said[1]))


@given(explicit=SAYS, journey_says=SAYS, workspace_says=SAYS)
def test_explicit_beats_the_journey_default_which_beats_the_workspace_default(
    explicit: tuple[str, list[str]] | None,
    journey_says: tuple[str, list[str]] | None,
    workspace_says: tuple[str, list[str]] | None,
) -> None:
    config = RunnerConfig(
        default_runner=workspace_says[0] if workspace_says else "cloud",
        default_runner_labels=workspace_says[1] if workspace_says else [],
    )
    journey = Journey(
        default_runner=journey_says[0] if journey_says else "",
        default_runner_labels=journey_says[1] if journey_says else [],
    )

    route = route_for(
        config=config,
        runner=explicit[0] if explicit else None,
        labels=explicit[1] if explicit else None,
        journey=journey,
    )

    expected = next((_route(s) for s in (explicit, journey_says, workspace_says) if s), CLOUD)
    assert route == expected


@pytest.mark.django_db
def test_a_dispatch_without_a_runner_follows_the_journey_default(
    make_scenario: MakeScenario,
) -> None:
    scenario = make_scenario()
    journey = scenario.version.journey
    RunnerConfig.objects.filter(workspace=scenario.workspace).update(default_runner="cloud")
    journey_runner_set(journey=journey, runner="self_hosted", labels="vpn, EU")

    def dispatch(**route: object) -> tuple[str, list[str]]:
        run = run_dispatch(
            workspace=scenario.workspace,
            version=scenario.version,
            environment=scenario.environment,
            trigger=Trigger.API,
            triggered_by=scenario.owner,
            **route,  # type: ignore[arg-type]
        ).run
        return run.runner_kind, list(run.runner_labels)

    assert dispatch() == ("self_hosted", ["eu", "vpn"])
    assert dispatch(runner="cloud") == ("cloud", [])
    assert dispatch(runner_labels=["lab"]) == ("self_hosted", ["lab"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("runner", "labels", "field"),
    [("elsewhere", "", "default_runner"), ("cloud", "eu", "default_runner_labels")],
)
def test_a_bad_journey_default_is_refused_naming_the_field(
    make_scenario: MakeScenario, runner: str, labels: str, field: str
) -> None:
    journey = make_scenario().version.journey
    with pytest.raises(ValidationError) as refused:
        journey_runner_set(journey=journey, runner=runner, labels=labels)
    assert field in refused.value.message_dict
    assert Journey.objects.get(pk=journey.pk).default_runner == ""


MATRIX = [("owner", 302), ("editor", 302), ("viewer", 403), ("outsider", 404), ("anonymous", 302)]


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_the_journey_default_form_is_for_editors_and_owners(
    client_as: ClientAs, make_scenario: MakeScenario, persona: str, status: int
) -> None:
    scenario = make_scenario()
    journey_id = scenario.version.journey_id
    url = reverse("dispatch:journey_runner", kwargs={"journey_id": journey_id})

    response = client_as(persona).post(
        url, {"default_runner": "self_hosted", "default_runner_labels": "vpn"}
    )

    assert response.status_code == status
    saved = Journey.objects.get(pk=journey_id)
    changed = persona in ("owner", "editor")
    assert (saved.default_runner, saved.default_runner_labels) == (
        ("self_hosted", ["vpn"]) if changed else ("", [])
    )
    if changed:
        panel = client_as(persona).get(reverse("dispatch:new", kwargs={"journey_id": journey_id}))
        text = panel.content.decode()
        assert "Journey default: Self-hosted runners labelled vpn" in text
        assert 'data-testid="journey-runner-form"' in text


@pytest.mark.django_db
def test_the_journey_default_form_names_a_bad_field(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario()
    url = reverse("dispatch:journey_runner", kwargs={"journey_id": scenario.version.journey_id})

    response = client_as("editor").post(
        url, {"default_runner": "cloud", "default_runner_labels": "vpn"}
    )

    assert response.status_code == 400
    assert "Labels pick self-hosted runners" in response.content.decode()
