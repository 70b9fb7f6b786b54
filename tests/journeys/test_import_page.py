"""The import page: who may use it, preview saves nothing, create saves the report with v1,
and an imported credential never reaches HTML or a database column."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.imports import seal
from reqflo.journeys.models import Environment, Journey, JourneyVersion, VersionImportReport
from reqflo.secrets import services as secret_services
from tests.conftest import ClientAs
from tests.engine.imports.conftest import DATA
from tests.httpbin_server import running_httpbin

URL = "journeys:journey_import"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
TOKEN = "tok-9b1f-NEVER-STORED"
ENV_SECRET = "env-secret-NEVER-STORED"
CURL = "curl 'https://shop.test/api/orders?page=2' -H 'Accept: application/json'"


def _collection() -> str:
    return json.dumps(
        {
            "info": {"name": "Shop", "schema": SCHEMA},
            "auth": {"type": "bearer", "bearer": [{"key": "token", "value": TOKEN}]},
            "item": [
                {
                    "name": "Orders",
                    "request": {
                        "method": "GET",
                        "url": "{{baseUrl}}/orders",
                        "header": [{"key": "X-Client-Key", "value": "{{client_key}}"}],
                    },
                    "event": [
                        {
                            "listen": "test",
                            "script": {
                                "exec": [
                                    "pm.response.to.have.status(200);",
                                    "pm.sendRequest('https://x.test');",
                                ]
                            },
                        }
                    ],
                }
            ],
        }
    )


def _environment() -> str:
    return json.dumps(
        {
            "name": "staging",
            "values": [
                {"key": "baseUrl", "value": "https://staging.shop.test"},
                {"key": "client_key", "value": ENV_SECRET, "type": "secret"},
            ],
        }
    )


def _postman_post(action: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "postman",
        "file": SimpleUploadedFile("shop.json", _collection().encode()),
        "environment_file": SimpleUploadedFile("staging.json", _environment().encode()),
        "split": "folders",
        "create_environments": "on",
        "action": action,
        **extra,
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 403), ("outsider", 200), ("anonymous", 302)],
)
def test_import_page_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse(URL))
    assert response.status_code == status
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "status", "created"),
    [
        ("owner", 302, True),
        ("editor", 302, True),
        ("viewer", 403, False),
        ("outsider", 302, False),  # created, but in the outsider's own workspace
        ("anonymous", 302, False),
    ],
)
def test_import_create_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int, created: bool
) -> None:
    response = client_as(persona).post(
        reverse(URL), {"kind": "curl", "text": CURL, "action": "create"}
    )
    assert response.status_code == status
    assert Journey.objects.filter(workspace=workspace).exists() == created


def test_outsider_imports_into_their_own_workspace(
    client_as: ClientAs, other_workspace: Workspace
) -> None:
    client_as("outsider").post(reverse(URL), {"kind": "curl", "text": CURL, "action": "create"})
    assert Journey.objects.get(slug="imported-from-curl").workspace == other_workspace


def test_preview_shows_the_report_and_saves_nothing(
    client_as: ClientAs, workspace: Workspace
) -> None:
    response = client_as("owner").post(reverse(URL), _postman_post("preview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Import report: 1 journey (1 step)" in html
    assert "pm.sendRequest is not supported" in html
    assert "<code>client_key</code>" in html  # a secret name, offered for the store
    assert "https://staging.shop.test" in html
    assert "Create 1 journey" in html
    assert not Journey.objects.filter(workspace=workspace).exists()
    assert not Environment.objects.filter(workspace=workspace).exists()
    assert TOKEN not in html
    assert ENV_SECRET not in html


def test_create_after_preview_keeps_the_source_and_the_changed_choices(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    client = client_as("owner")
    preview = client.post(reverse(URL), _postman_post("preview"))
    form = preview.context["form"]
    sealed_text = form["sealed_text"].value()
    sealed_environment = form["sealed_environment"].value()

    response = client.post(
        reverse(URL),
        {
            "kind": "postman",
            "sealed_text": sealed_text,
            "sealed_environment": sealed_environment,
            "split": "collection",  # changed after the preview; the source stays
            "create_environments": "on",
            "action": "create",
        },
    )

    assert response.status_code == 302
    journey = Journey.objects.get(workspace=workspace, slug="shop")
    version = journey.versions.get()
    assert version.author == owner
    assert version.message.startswith("Imported from Postman collection: 1 journey (1 step)")
    assert "pm.sendRequest is not supported" in version.message
    headers = version.document["journey"]["steps"][0]["request"]["headers"]
    assert headers == {
        "X-Client-Key": "{{ secrets.client_key }}",
        "Authorization": "Bearer {{ secrets.bearer_token }}",
    }
    environment = Environment.objects.get(workspace=workspace, name="staging")
    assert environment.base_url == "https://staging.shop.test"
    assert environment.values == {}


def test_an_imported_credential_is_in_no_database_column(
    client_as: ClientAs, workspace: Workspace
) -> None:
    client_as("owner").post(reverse(URL), _postman_post("create"))
    assert JourneyVersion.objects.filter(journey__workspace=workspace).count() == 1

    # Every table, sessions included: the import must leave the value in none of them.
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            dump = repr(cursor.fetchall())
            assert TOKEN not in dump, table
            assert ENV_SECRET not in dump, table


def test_the_sealed_source_is_not_the_source_in_clear(client_as: ClientAs) -> None:
    preview = client_as("owner").post(reverse(URL), _postman_post("preview"))
    sealed = preview.context["form"]["sealed_text"].value()
    assert "Orders" not in sealed
    assert seal("x") != seal("x")  # a fresh token each time


def test_a_forged_sealed_source_is_refused_with_a_message(client_as: ClientAs) -> None:
    response = client_as("editor").post(
        reverse(URL), {"kind": "curl", "sealed_text": "gAAAAforged", "action": "create"}
    )

    assert response.status_code == 400
    assert "The kept source has expired; choose the file again." in response.content.decode()


def test_a_refused_source_gets_its_reason_and_a_400(client_as: ClientAs) -> None:
    spec = (
        (DATA / "openapi" / "petstore-3.0.yaml")
        .read_text()
        .replace('$ref: "#/components/schemas/Pets"', "$ref: 'https://evil.test/pets.json'")
    )
    response = client_as("editor").post(
        reverse(URL), {"kind": "openapi", "text": spec, "action": "preview"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing can be imported from this source" in html
    assert "https://evil.test/pets.json" in html
    assert "never fetched" in html


def test_a_slug_taken_gets_the_next_free_one(client_as: ClientAs, workspace: Workspace) -> None:
    client = client_as("editor")
    for _ in range(2):
        client.post(reverse(URL), {"kind": "curl", "text": CURL, "action": "create"})
    assert sorted(Journey.objects.filter(workspace=workspace).values_list("slug", flat=True)) == [
        "imported-from-curl",
        "imported-from-curl-2",
    ]


def test_an_editor_cannot_create_environments(client_as: ClientAs, workspace: Workspace) -> None:
    response = client_as("editor").post(reverse(URL), _postman_post("create"))

    assert response.status_code == 302
    assert Journey.objects.filter(workspace=workspace, slug="shop").exists()
    assert not Environment.objects.filter(workspace=workspace).exists()


def test_nothing_to_import_is_a_400_with_the_report(client_as: ClientAs) -> None:
    response = client_as("editor").post(
        reverse(URL),
        {"kind": "har", "text": '{"log": {"entries": [{"request": {}}]}}', "action": "create"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "No journey could be made from this source" in html
    assert "entries[0]" in html


@pytest.fixture
def httpbin() -> Iterator[str]:
    with running_httpbin() as base_url:
        yield base_url


def test_an_openapi_url_is_fetched_through_the_egress_policy(
    client_as: ClientAs, workspace: Workspace, httpbin: str, settings: Any
) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = True  # loopback is allowed on a one-machine install
    client = client_as("owner")
    preview = client.post(
        reverse(URL), {"kind": "openapi", "url": f"{httpbin}/spec.json", "action": "preview"}
    )
    assert preview.status_code == 200
    assert "Import report: 11 journeys (73 steps)" in preview.content.decode()
    form = preview.context["form"]

    created = client.post(
        reverse(URL),
        {
            "kind": "openapi",
            "url": f"{httpbin}/spec.json",
            "sealed_text": form["sealed_text"].value(),
            "sealed_url": form["sealed_url"].value(),
            "operations": "GET /get\nPOST /post",
            "action": "create",
        },
    )

    assert created.status_code == 302
    [journey] = Journey.objects.filter(workspace=workspace)
    steps = journey.versions.get().document["journey"]["steps"]
    assert [s["id"] for s in steps] == ["get-get", "post-post"]


def test_an_openapi_url_the_egress_policy_refuses_is_not_fetched(
    client_as: ClientAs, workspace: Workspace, httpbin: str, settings: Any
) -> None:
    settings.REQFLO_EGRESS_ALLOW_PRIVATE = False
    response = client_as("editor").post(
        reverse(URL), {"kind": "openapi", "url": f"{httpbin}/spec.json", "action": "preview"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "egress policy: 127.0.0.1 resolves to 127.0.0.1, which is not a public" in html
    assert not Journey.objects.filter(workspace=workspace).exists()


def test_a_url_that_is_not_http_is_a_form_error(client_as: ClientAs) -> None:
    response = client_as("editor").post(
        reverse(URL), {"kind": "openapi", "url": "file:///etc/passwd", "action": "preview"}
    )

    assert response.status_code == 400
    assert "Give an http:// or https:// URL." in response.content.decode()


def test_the_preview_says_which_secret_names_the_store_already_has(
    client_as: ClientAs, workspace: Workspace, owner: User
) -> None:
    secret_services.secret_create(
        workspace=workspace,
        actor=secret_services.Actor(user=owner),
        name="client_key",
        value="v-123456",
    )

    response = client_as("owner").post(reverse(URL), _postman_post("preview"))

    html = response.content.decode()
    assert (
        "<code>client_key</code>: was variable {{client_key}} — <strong>already in the store"
        in (html)
    )
    assert "<code>bearer_token</code>: a credential in the auth — <strong>missing" in html


# Eight commands, each with an option the import reports: far more than a 300-character message.
MANY_ITEMS = "\n".join(
    f"curl https://shop.test/api/items/{n} --cacert ca.pem --frobnicate{n}" for n in range(8)
)


def test_the_whole_report_is_kept_with_the_version_and_shown_on_its_page(
    client_as: ClientAs, workspace: Workspace
) -> None:
    client = client_as("editor")
    client.post(reverse(URL), {"kind": "curl", "text": MANY_ITEMS, "action": "create"})

    version = Journey.objects.get(workspace=workspace, slug="imported-from-curl").versions.get()
    assert len(version.message) <= 300
    assert "more in the import report" in version.message
    report = VersionImportReport.objects.get(version=version).text
    for n in range(8):
        assert f"command {n + 1}: option --frobnicate{n} is not a curl option; ignored" in report
    page = client.get(reverse("journeys:version_detail", args=[version.journey_id, version.number]))
    html = page.content.decode()
    assert 'id="version-import-report"' in html
    assert "command 8: option --frobnicate7 is not a curl option; ignored" in html


def test_a_version_not_made_by_an_import_has_no_report_section(
    client_as: ClientAs, workspace: Workspace, editor: User
) -> None:
    journey = services.journey_create_blank(workspace=workspace, author=editor, name="Plain")
    page = client_as("editor").get(reverse("journeys:version_detail", args=[journey.pk, 1]))
    assert 'id="version-import-report"' not in page.content.decode()


GITHUB_TOKEN = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
DATABASE_PASSWORD = "Pa55-w0rd-NEVER-STORED"


def test_credentials_found_by_their_shape_are_in_no_database_column_nor_the_page(
    client_as: ClientAs, workspace: Workspace
) -> None:
    collection = json.dumps(
        {
            "info": {"name": "Shapes", "schema": SCHEMA},
            "item": [
                {
                    "name": "Call",
                    "request": {
                        "method": "GET",
                        "url": "{{baseUrl}}/call",
                        "header": [{"key": "X-Trace", "value": GITHUB_TOKEN}],
                    },
                }
            ],
        }
    )
    environment = json.dumps(
        {
            "name": "staging",
            "values": [
                {"key": "baseUrl", "value": "https://staging.shop.test"},
                {"key": "db", "value": f"postgres://app:{DATABASE_PASSWORD}@db.test/shop"},
            ],
        }
    )
    post = {
        "kind": "postman",
        "file": SimpleUploadedFile("c.json", collection.encode()),
        "environment_file": SimpleUploadedFile("e.json", environment.encode()),
        "create_environments": "on",
    }
    client = client_as("owner")
    preview = client.post(reverse(URL), {**post, "action": "preview"})
    html = preview.content.decode()
    assert GITHUB_TOKEN not in html
    assert DATABASE_PASSWORD not in html
    assert "<code>x-trace</code>" in html
    note = 'environment "staging" \u203a "db"'.replace('"', "&quot;")
    assert f"<code>{note}</code>: treated as a secret" in html
    post["file"].seek(0)
    post["environment_file"].seek(0)
    client.post(reverse(URL), {**post, "action": "create"})

    assert Environment.objects.get(workspace=workspace, name="staging").values == {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            dump = repr(cursor.fetchall())
            assert GITHUB_TOKEN not in dump, table
            assert DATABASE_PASSWORD not in dump, table


@pytest.mark.parametrize(("persona", "offered"), [("owner", True), ("editor", False)])
def test_owners_are_offered_to_store_each_missing_secret(
    client_as: ClientAs, persona: str, offered: bool
) -> None:
    html = client_as(persona).post(reverse(URL), _postman_post("preview")).content.decode()

    link = reverse("secrets:secret_create") + "?name=bearer_token"
    assert (link in html) == offered


@pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("editor", 403)])
def test_the_secret_form_takes_the_offered_name(
    client_as: ClientAs, persona: str, status: int
) -> None:
    response = client_as(persona).get(reverse("secrets:secret_create") + "?name=bearer_token")

    assert response.status_code == status
    if status == 200:
        assert 'value="bearer_token"' in response.content.decode()


def test_names_too_long_for_their_columns_are_cut_at_import_not_refused(
    client_as: ClientAs, workspace: Workspace
) -> None:
    folder, env_name = "Checkout " + "ä" * 400, "Staging " + "e" * 120
    collection = json.dumps(
        {
            "info": {"name": "Shop", "schema": SCHEMA},
            "item": [
                {
                    "name": folder,
                    "item": [{"name": "Get", "request": {"method": "GET", "url": "{{baseUrl}}/x"}}],
                }
            ],
        }
    )
    environment = json.dumps(
        {"name": env_name, "values": [{"key": "baseUrl", "value": "https://shop.test"}]}
    )

    response = client_as("owner").post(
        reverse(URL),
        {
            "kind": "postman",
            "file": SimpleUploadedFile("shop.json", collection.encode()),
            "environment_file": SimpleUploadedFile("env.json", environment.encode()),
            "split": "folders",
            "create_environments": "on",
            "action": "create",
        },
    )

    assert response.status_code == 302
    journey = Journey.objects.get(workspace=workspace)
    assert journey.name == folder[:199] + "…"
    assert len(journey.slug) <= Journey._meta.get_field("slug").max_length  # type: ignore[operator]
    report = journey.versions.get().import_report.text
    assert "the journey's name was 409 characters; cut to 200" in report
    created = Environment.objects.get(workspace=workspace).name
    assert created == "Staging-" + "e" * 52
