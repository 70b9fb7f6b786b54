from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from reqflo.core.models import Workspace
from reqflo.engine import DefinitionError
from reqflo.journeys import services
from reqflo.journeys.documents import check_document, check_text, render_yaml
from reqflo.journeys.models import BuildArtifact, Case, Environment, Journey
from reqflo.secrets.models import SecretValue
from reqflo.secrets.services import Actor, secret_create, secret_environment_value_set
from tests.journeys import samples


def save(journey: Journey, owner: User, doc: dict[str, Any], base: int, **kwargs: Any) -> Any:
    return services.journey_version_create(
        journey=journey, author=owner, checked=check_document(doc), base_number=base, **kwargs
    )


# --- Journeys and versions ---------------------------------------------------------------------


def test_creating_a_journey_writes_v1_and_points_head_at_it(make_journey: Any, owner: User) -> None:
    journey = make_journey("Checkout flow", tags=["smoke"])
    assert journey.slug == "checkout-flow"
    assert journey.head_number == 1
    assert journey.head.number == 1
    assert journey.head.author == owner
    assert journey.tags == ["smoke"]


def test_a_second_journey_with_the_same_slug_is_refused(make_journey: Any) -> None:
    make_journey("Checkout flow")
    with pytest.raises(DefinitionError) as caught:
        make_journey("Checkout  flow")
    assert caught.value.issues[0].path == "slug"


def test_saving_a_change_creates_the_next_version(make_journey: Any, owner: User) -> None:
    journey = make_journey()
    doc = samples.edited(journey.head.document, description="Now described")
    version = save(journey, owner, doc, base=1, message="describe")
    assert version.number == 2
    assert version.message == "describe"
    journey.refresh_from_db()
    assert journey.head == version
    assert journey.description == "Now described"


def test_saving_without_a_change_creates_no_version(make_journey: Any, owner: User) -> None:
    journey = make_journey()
    assert save(journey, owner, journey.head.document, base=1) is None
    assert journey.versions.count() == 1


def test_saving_the_same_journey_as_yaml_creates_no_version(make_journey: Any, owner: User) -> None:
    journey = make_journey()
    checked = check_text(render_yaml(journey.head.document))
    result = services.journey_version_create(
        journey=journey, author=owner, checked=checked, base_number=1
    )
    assert result is None


def test_saving_on_an_outdated_base_raises_a_conflict_and_writes_nothing(
    make_journey: Any, owner: User
) -> None:
    journey = make_journey()
    first = samples.edited(journey.head.document, description="first")
    save(journey, owner, first, base=1)
    second = samples.edited(journey.head.document, description="second")
    with pytest.raises(services.VersionConflict) as caught:
        save(journey, owner, second, base=1)
    assert caught.value.head.number == 2
    assert journey.versions.count() == 2


def test_the_slug_of_an_existing_journey_cannot_change(make_journey: Any, owner: User) -> None:
    journey = make_journey()
    with pytest.raises(DefinitionError) as caught:
        save(journey, owner, samples.edited(journey.head.document, slug="other"), base=1)
    assert caught.value.issues[0].path == "slug"


def test_restoring_an_old_version_creates_a_new_one_with_its_content(
    make_journey: Any, owner: User
) -> None:
    journey = make_journey()
    v1 = journey.head
    save(journey, owner, samples.edited(v1.document, name="Renamed"), base=1)
    v3 = services.journey_version_restore(journey=journey, version=v1, author=owner, base_number=2)
    assert v3.number == 3
    assert v3.restored_from == 1
    assert v3.digest == v1.digest
    assert v3.message == "Restored v1"
    journey.refresh_from_db()
    assert journey.name == "Checkout flow"


def test_restoring_the_latest_content_creates_nothing(make_journey: Any, owner: User) -> None:
    journey = make_journey()
    assert (
        services.journey_version_restore(
            journey=journey, version=journey.head, author=owner, base_number=1
        )
        is None
    )


def test_archiving_a_journey_keeps_its_versions(make_journey: Any) -> None:
    journey = services.journey_set_archived(journey=make_journey(), archived=True)
    assert journey.archived
    assert journey.versions.count() == 1


def test_compiling_a_version_twice_reuses_the_artifact_row(make_journey: Any) -> None:
    version = make_journey().head
    first = services.build_artifact_for_version(version=version)
    second = services.build_artifact_for_version(version=version)
    assert first.pk == second.pk
    assert first.artifact_id.startswith("art_")
    assert BuildArtifact.objects.count() == 1


# --- Cases ---------------------------------------------------------------------------------------


def test_case_names_are_unique_per_journey_with_a_clear_error(make_journey: Any) -> None:
    journey = make_journey()
    services.case_create(journey=journey, name="Happy path", values={"email": "a@b.c"})
    with pytest.raises(ValidationError) as caught:
        services.case_create(journey=journey, name="Happy path", values={})
    assert "already has a case named 'Happy path'" in str(caught.value)


def test_the_same_case_name_is_fine_on_another_journey(make_journey: Any) -> None:
    services.case_create(journey=make_journey("One"), name="Happy path", values={})
    services.case_create(journey=make_journey("Two"), name="Happy path", values={})
    assert Case.objects.count() == 2


def test_duplicating_a_case_picks_a_free_name(make_journey: Any) -> None:
    case = services.case_create(journey=make_journey(), name="Happy", values={"q": 1})
    copy1 = services.case_duplicate(case=case)
    copy2 = services.case_duplicate(case=case)
    assert (copy1.name, copy2.name) == ("Happy (copy)", "Happy (copy 2)")
    assert copy2.values == {"q": 1}


def test_renaming_archiving_and_restoring_a_case(make_journey: Any) -> None:
    case = services.case_create(journey=make_journey(), name="Happy", values={})
    services.case_update(case=case, name="Sunny", values={"q": "2"})
    services.case_set_archived(case=case, archived=True)
    case.refresh_from_db()
    assert (case.name, case.values, case.archived) == ("Sunny", {"q": "2"}, True)
    services.case_set_archived(case=case, archived=False)
    case.refresh_from_db()
    assert not case.archived


def test_deleting_an_unused_case_deletes_it(make_journey: Any) -> None:
    case = services.case_create(journey=make_journey(), name="Happy", values={})
    assert services.case_delete(case=case) == "deleted"
    assert not Case.objects.exists()


# --- Environments --------------------------------------------------------------------------------


def test_environment_base_url_must_be_http(workspace: Workspace) -> None:
    with pytest.raises(ValidationError) as caught:
        services.environment_create(
            workspace=workspace, name="staging", base_url="ftp://example.com", values={}
        )
    assert "base_url" in caught.value.message_dict


def test_environment_accepts_single_label_hosts(workspace: Workspace) -> None:
    env = services.environment_create(
        workspace=workspace, name="internal", base_url="http://api:8080/v1", values={"region": "eu"}
    )
    assert env.as_mapping() == {"region": "eu", "base_url": "http://api:8080/v1"}


def test_environment_names_are_unique_per_workspace(workspace: Workspace) -> None:
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.io", values={}
    )
    with pytest.raises(ValidationError) as caught:
        services.environment_create(
            workspace=workspace, name="staging", base_url="https://t.io", values={}
        )
    assert "already has an environment named 'staging'" in str(caught.value)


def test_renaming_and_deleting_an_unused_environment(workspace: Workspace) -> None:
    env = services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.io", values={}
    )
    services.environment_update(environment=env, name="stage", base_url="https://t.io", values={})
    env.refresh_from_db()
    assert (env.name, env.base_url) == ("stage", "https://t.io")
    assert services.environment_delete(environment=env) == "deleted"
    assert not Environment.objects.exists()


def test_renaming_an_environment_moves_its_secret_values(workspace: Workspace, owner: User) -> None:
    env = services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.io", values={}
    )
    secret = secret_create(
        workspace=workspace, actor=Actor(owner), name="api_key", value="default-value"
    )
    secret_environment_value_set(
        secret=secret, actor=Actor(owner), environment="staging", value="s-value"
    )
    services.environment_update(environment=env, name="stage", base_url="https://s.io", values={})
    assert set(SecretValue.objects.filter(secret=secret).values_list("environment", flat=True)) == {
        "",
        "stage",
    }


def test_renaming_onto_a_deleted_environments_kept_values_is_refused_in_words(
    workspace: Workspace, owner: User
) -> None:
    # Found by a review: this was a 500 (the secret values' unique constraint).
    staging, prod = (
        services.environment_create(
            workspace=workspace, name=name, base_url="https://s.io", values={}
        )
        for name in ("staging", "prod")
    )
    secret = secret_create(workspace=workspace, actor=Actor(owner), name="api_key", value="d-key")
    for name in ("prod", "staging"):
        secret_environment_value_set(
            secret=secret, actor=Actor(owner), environment=name, value=f"{name}-value"
        )
    services.environment_delete(environment=prod)  # its secret values are kept
    with pytest.raises(ValidationError) as refused:
        services.environment_update(
            environment=staging, name="prod", base_url="https://s.io", values={}
        )
    assert "Secret values for an environment named 'prod' are still stored (for api_key)" in str(
        refused.value
    )
    staging.refresh_from_db()
    assert staging.name == "staging"  # nothing changed
    assert set(SecretValue.objects.filter(secret=secret).values_list("environment", flat=True)) == {
        "",
        "prod",
        "staging",
    }


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("ftp://files.example.test", "http:// or https://"),
        ("https://", "http:// or https://"),
        ("http:///path", "http:// or https://"),
        ("api.example.test", "http:// or https://"),
        ("https://exa mple.test", "http:// or https://"),
        ("http://localhost:99999", "is not a number from 1 to 65535"),
        ("https://admin:hunter2@api.example.test", "keep credentials in"),
    ],
)
def test_environment_base_url_is_refused_with_a_reason(
    workspace: Workspace, base_url: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.environment_create(workspace=workspace, name="x", base_url=base_url, values={})
    assert message in " ".join(caught.value.message_dict["base_url"])
    assert not Environment.objects.exists()


@pytest.mark.parametrize(
    "base_url",
    ["http://[::1]:8000/api", "https://api.example.test/v1?x=1", "http://localhost:8080"],
)
def test_environment_base_url_accepts_http_urls(workspace: Workspace, base_url: str) -> None:
    env = services.environment_create(workspace=workspace, name="x", base_url=base_url, values={})
    assert env.base_url == base_url
