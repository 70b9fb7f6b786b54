"""In a real browser: log in, find your way around the shell, switch workspace, log out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Role
from tests.e2e.conftest import log_in
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_owner_logs_in_and_sees_the_shell(page: Page, owner: User) -> None:
    log_in(page, "owner@acme.test")
    expect(page.locator(".switcher-name")).to_have_text("Acme")
    nav = page.get_by_role("navigation", name="Main")
    built = ("Journeys", "Runs", "Schedules", "Secrets", "Environments", "Runners", "Members")
    built += ("API tokens",)
    for label in built:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    # Nothing that is not built is advertised.
    for label in ("Coming soon", "Soon"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    nav.get_by_role("link", name="Members", exact=True).click()
    expect(page.get_by_role("heading", name="Members of Acme")).to_be_visible()
    expect(nav.get_by_role("link", name="Members", exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def test_wrong_password_is_shown_on_the_form(page: Page, owner: User) -> None:
    page.goto(reverse("login"))
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()


def test_owner_switches_workspace_from_the_header(page: Page, owner: User) -> None:
    MembershipFactory(user=owner, workspace__name="Zeta", role=Role.VIEWER)
    log_in(page, "owner@acme.test")
    page.locator(".switcher summary").click()
    page.get_by_role("button", name="Zeta").click()
    expect(page.locator(".switcher-name")).to_have_text("Zeta")
    expect(page.get_by_text("Switched to Zeta.")).to_be_visible()
    expect(page.get_by_test_id("my-role")).to_have_text("Viewer")


def test_viewer_sees_members_read_only_and_logs_out(page: Page, viewer: User, owner: User) -> None:
    log_in(page, "viewer@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_text("Only owners can add, change or remove members.")).to_be_visible()
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
