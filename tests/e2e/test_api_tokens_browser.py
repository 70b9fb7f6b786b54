"""In a real browser: a member creates an API token (shown once), uses it, and revokes it."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from reqflo.api.models import ApiToken
from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open_tokens(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    page.evaluate("window.__sameDocument = true")


def test_a_member_creates_uses_and_revokes_a_token(
    page: Page, editor: User, workspace: Workspace, live_server: LiveServer
) -> None:
    log_in(page, "editor@acme.test")
    _open_tokens(page)
    form = page.locator("#token-create")
    form.get_by_label("Name").fill("laptop")
    form.get_by_label("Expires").select_option("30")
    form.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("New API token")
    expect(shown).to_be_visible()
    key = shown.input_value()
    assert key.startswith("rqf_")
    assert page.evaluate("window.__sameDocument") is True  # swapped in by htmx
    row = page.locator("#my-tokens tr[data-name='laptop']")
    expect(row).to_contain_text("Active")

    api = f"{live_server.url}/api/v1/journeys"
    assert httpx.get(api, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    page.reload()
    expect(page.get_by_label("New API token")).to_have_count(0)  # shown once only
    expect(page.locator("#my-tokens")).to_contain_text("from 127.0.0.1")
    assert key not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#my-tokens tr[data-name='laptop']").get_by_role("button", name="Revoke").click()
    expect(page.locator("#my-tokens tr[data-name='laptop']")).to_contain_text("Revoked")
    refused = httpx.get(api, headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_revoked"


def test_an_owner_sees_and_revokes_a_members_token(
    page: Page, owner: User, viewer: User, workspace: Workspace
) -> None:
    token = api_token_create(user=viewer, workspace=workspace, name="viewer-ci").token
    log_in(page, "owner@acme.test")
    _open_tokens(page)
    row = page.locator("#all-tokens tr[data-name='viewer-ci']")
    expect(row).to_contain_text("viewer@acme.test")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#all-tokens tr[data-name='viewer-ci']")).to_contain_text("Revoked")
    assert ApiToken.objects.get(pk=token.pk).revoked_by == owner


def test_the_api_reference_renders_from_our_own_static_files(
    page: Page, viewer: User, live_server: LiveServer
) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Dispatch a cloud run")).to_be_visible()
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert not [m for m in blocked if "script" in m], blocked
