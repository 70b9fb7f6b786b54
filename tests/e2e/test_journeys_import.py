"""In a real browser: import a Postman export, read the report, change a choice, create."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Workspace
from reqflo.journeys.models import Journey
from tests.e2e.conftest import log_in
from tests.journeys.test_import_page import ENV_SECRET, TOKEN, _collection, _environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_postman_export_is_previewed_then_created(
    page: Page, editor: User, workspace: Workspace
) -> None:
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_list"))
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Postman collection (v2.0 or v2.1)").check()
    page.locator("#id_file").set_input_files(
        files=[
            {"name": "shop.json", "mimeType": "application/json", "buffer": _collection().encode()}
        ]
    )
    page.get_by_label("Postman environment file (optional)").set_input_files(
        files=[
            {"name": "env.json", "mimeType": "application/json", "buffer": _environment().encode()}
        ]
    )
    page.get_by_role("button", name="Preview the import").click()

    report = page.locator("#import-report")
    expect(report).to_contain_text("Import report: 1 journey (1 step)")
    expect(page.locator("#report-skipped")).to_contain_text("pm.sendRequest is not supported")
    expect(report).to_contain_text("client_key")
    assert TOKEN not in page.content()
    assert ENV_SECRET not in page.content()
    assert not Journey.objects.filter(workspace=workspace).exists()

    # Going back to the choices loses nothing: the source is kept while a choice changes.
    expect(page.locator("#source-kept")).to_be_visible()
    page.get_by_label("Postman: journeys").select_option("collection")
    page.get_by_role("button", name="Create 1 journey").click()

    expect(page.get_by_text("Imported 1 journey(s): Shop.")).to_be_visible()
    expect(
        page.get_by_text("Store these secrets in Admin → Secrets: client_key, bearer_token.")
    ).to_be_visible()
    journey = Journey.objects.get(workspace=workspace, slug="shop")
    assert "pm.sendRequest is not supported" in journey.versions.get().message


def test_pasted_curl_commands_are_imported(page: Page, editor: User, workspace: Workspace) -> None:
    log_in(page, "editor@acme.test")
    page.goto(reverse("journeys:journey_import"))
    page.get_by_label("curl commands").check()
    page.get_by_label("…or paste it").fill(
        "curl 'https://shop.test/api/cart' -X POST -H 'content-type: application/json' "
        '--data-raw \'{"sku":"mug"}\'\ncurl https://shop.test/api/cart --compressed'
    )
    page.get_by_label("curl / HAR: journey name").fill("Cart from devtools")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("#import-report")).to_contain_text("Cart from devtools")
    page.get_by_role("button", name="Create 1 journey").click()

    expect(page.get_by_text("Imported 1 journey(s): Cart from devtools.")).to_be_visible()
    journey = Journey.objects.get(workspace=workspace, slug="cart-from-devtools")
    steps = journey.versions.get().document["journey"]["steps"]
    assert [s["request"]["method"] for s in steps] == ["POST", "GET"]


def test_an_owner_stores_an_offered_secret_and_reads_the_whole_report_on_the_version(
    page: Page, owner: User, workspace: Workspace
) -> None:
    log_in(page, "owner@acme.test")
    page.goto(reverse("journeys:journey_import"))
    page.get_by_label("Postman collection (v2.0 or v2.1)").check()
    page.locator("#id_file").set_input_files(
        files=[
            {"name": "shop.json", "mimeType": "application/json", "buffer": _collection().encode()}
        ]
    )
    page.get_by_role("button", name="Preview the import").click()

    offer = page.locator("#import-secrets").get_by_role("link", name="store it in the secret store")
    expect(offer.first).to_be_visible()
    href = offer.first.get_attribute("href")
    assert href is not None
    assert href.endswith("?name=bearer_token")
    page.get_by_role("button", name="Create 1 journey").click()
    expect(page.get_by_text("Imported 1 journey(s): Shop.")).to_be_visible()

    journey = Journey.objects.get(workspace=workspace, slug="shop")
    page.goto(reverse("journeys:version_detail", args=[journey.pk, 1]))
    report = page.locator("#version-import-report")
    expect(report).to_contain_text("Imported from Postman collection: 1 journey (1 step)")
    expect(report).to_contain_text("pm.sendRequest is not supported")
    assert TOKEN not in page.content()

    page.goto(href)
    expect(page.get_by_label("Name")).to_have_value("bearer_token")
