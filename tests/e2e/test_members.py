"""In a real browser: an owner adds members, changes roles, and an invitee joins by link."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from reqflo.core.models import Invitation, Membership, Role, Workspace
from tests.e2e.conftest import NewContext, log_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open_members(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members of Acme")).to_be_visible()
    # A marker that survives htmx swaps but not a full page load.
    page.evaluate("window.__sameDocument = true")


def test_owner_adds_a_member_and_changes_their_role_in_place(
    page: Page, owner: User, workspace: Workspace
) -> None:
    UserFactory(email="newcomer@example.test")
    log_in(page, "owner@acme.test")
    _open_members(page)

    form = page.locator("#member-add")
    form.get_by_label("Email").fill("newcomer@example.test")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("newcomer@example.test joined as Viewer.")).to_be_visible()
    row = page.locator('tr[data-email="newcomer@example.test"]')
    expect(row).to_be_visible()

    row.get_by_label("Role of newcomer@example.test").select_option("editor")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("newcomer@example.test is now Editor.")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # updated by htmx, no reload
    membership = Membership.objects.get(workspace=workspace, user__email="newcomer@example.test")
    assert membership.role == Role.EDITOR


def test_last_owner_demotion_is_refused_with_a_message(page: Page, owner: User) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    row = page.locator('tr[data-email="owner@acme.test"]')
    row.get_by_label("Role of owner@acme.test").select_option("viewer")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("owner@acme.test is the last owner of Acme")).to_be_visible()
    expect(row.get_by_label("Role of owner@acme.test")).to_have_value("owner")


def test_owner_removes_a_member_after_confirming(page: Page, owner: User, viewer: User) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-email="viewer@acme.test"]').get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Removed viewer@acme.test from Acme.")).to_be_visible()
    expect(page.locator('tr[data-email="viewer@acme.test"]')).to_have_count(0)
    assert not Membership.objects.filter(user=viewer).exists()


def test_invitation_is_accepted_in_a_second_browser(
    page: Page, new_context: NewContext, owner: User, workspace: Workspace
) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    form = page.locator("#member-add")
    form.get_by_label("Email").fill("invitee@example.test")
    form.get_by_label("Role").select_option("editor")
    form.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("invitee@example.test has no account yet")).to_be_visible()
    link = page.get_by_label("Invitation link for invitee@example.test").input_value()
    assert link.startswith("http://")

    invitee = new_context().new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join Acme")).to_be_visible()
    invitee.get_by_label("Password:", exact=True).fill("a-long-new-pass-phrase")
    invitee.get_by_label("Password again").fill("a-long-new-pass-phrase")
    invitee.get_by_role("button", name="Set password and join").click()
    expect(invitee.get_by_text("Welcome to Acme!")).to_be_visible()
    expect(invitee.get_by_test_id("user-email")).to_have_text("invitee@example.test")

    # The link works once: opening it again says so.
    invitee.goto(link)
    expect(invitee.get_by_text("already been used")).to_be_visible()

    page.goto(reverse("core:member_list"))
    expect(page.locator('tr[data-email="invitee@example.test"]')).to_be_visible()


def test_action_refused_after_losing_ownership_explains_itself(
    page: Page, owner: User, editor: User, viewer: User
) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    # Meanwhile another owner takes the owner role away.
    Membership.objects.filter(user=editor).update(role=Role.OWNER)
    Membership.objects.filter(user=owner).update(role=Role.VIEWER)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('tr[data-email="viewer@acme.test"]').get_by_role("button", name="Remove").click()
    expect(page.get_by_text("You are no longer allowed to do that here.")).to_be_visible()
    assert Membership.objects.filter(user=viewer).exists()


def test_a_lost_connection_is_explained(page: Page, owner: User, viewer: User) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    page.route("**/members/*/role/", lambda route: route.abort("connectionrefused"))
    row = page.locator('tr[data-email="viewer@acme.test"]')
    row.get_by_label("Role of viewer@acme.test").select_option("editor")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("Could not reach Reqflo; check your connection.")).to_be_visible()
    assert Membership.objects.get(user=viewer).role == Role.VIEWER


def test_a_stale_page_after_logging_out_elsewhere_says_so(
    page: Page, owner: User, viewer: User
) -> None:
    log_in(page, "owner@acme.test")
    _open_members(page)
    # Another tab logs out: the session and the CSRF cookie this page's token matches are gone.
    page.context.clear_cookies()
    row = page.locator('tr[data-email="viewer@acme.test"]')
    row.get_by_label("Role of viewer@acme.test").select_option("editor")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("This page is out of date")).to_be_visible()
    assert Membership.objects.get(user=viewer).role == Role.VIEWER


def test_members_page_works_without_javascript(
    new_context: NewContext, owner: User, workspace: Workspace
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "owner@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    form = page.locator("#member-add")
    form.get_by_label("Email").fill("nojs@example.test")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("nojs@example.test has no account yet")).to_be_visible()
    expect(page.get_by_label("Invitation link for nojs@example.test")).to_be_visible()
    assert Invitation.objects.filter(workspace=workspace, email="nojs@example.test").exists()

    # The workspace switcher is a <details> of plain forms: it needs no script either.
    MembershipFactory(user=owner, workspace__name="Zeta", role=Role.OWNER)
    page.reload()
    page.locator(".switcher summary").click()
    page.get_by_role("button", name="Zeta").click()
    expect(page.locator(".switcher-name")).to_have_text("Zeta")
