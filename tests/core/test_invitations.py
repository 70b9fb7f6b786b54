"""Opening an invitation link: set a password and join; every unusable link says why."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reqflo.core.access import SESSION_KEY
from reqflo.core.invitations import invitation_token
from reqflo.core.models import Invitation, Membership, Role, Workspace
from tests.conftest import ClientAs
from tests.factories import PASSWORD, InvitationFactory

NEW_PASSWORD = "a-long-new-pass-phrase"


def _link(invitation: Invitation) -> str:
    return reverse("core:invitation_accept", args=[invitation_token(invitation)])


def test_anonymous_sets_a_password_joins_and_is_logged_in(
    client: Client, workspace: Workspace
) -> None:
    invitation = InvitationFactory(workspace=workspace, email="new@example.test", role=Role.VIEWER)
    page = client.get(_link(invitation))
    assert page.status_code == 200
    assert b"Join Acme" in page.content
    assert b"new@example.test" in page.content
    response = client.post(
        _link(invitation), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    assert response.context["user"].email == "new@example.test"
    assert response.context["current_workspace"] == workspace
    assert "Welcome to Acme!" in [str(m) for m in response.context["messages"]]
    assert Membership.objects.get(user__email="new@example.test").role == Role.VIEWER
    assert client.session[SESSION_KEY] == str(workspace.pk)


def test_mismatched_or_weak_passwords_are_form_errors(client: Client, workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="new@example.test")
    response = client.post(_link(invitation), {"password1": NEW_PASSWORD, "password2": "other"})
    assert response.status_code == 400
    assert b"The two passwords differ." in response.content
    response = client.post(_link(invitation), {"password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert b"too short" in response.content
    assert not User.objects.filter(username="new@example.test").exists()


def test_a_used_link_says_it_was_used(client: Client, workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="new@example.test")
    client.post(_link(invitation), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    other_browser = Client()
    response = other_browser.get(_link(invitation))
    assert response.status_code == 410
    assert b"already been used" in response.content
    response = other_browser.post(
        _link(invitation), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert Membership.objects.filter(user__email="new@example.test").count() == 1


def test_an_expired_link_says_it_expired(client: Client, workspace: Workspace) -> None:
    invitation = InvitationFactory(
        workspace=workspace, expires_at=timezone.now() - timedelta(hours=1)
    )
    response = client.get(_link(invitation))
    assert response.status_code == 410
    assert b"expired on" in response.content
    assert b"Ask an owner of Acme for a new one." in response.content


def test_a_tampered_link_is_invalid(client: Client, workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace)
    response = client.get(_link(invitation)[:-3] + "xx/")
    assert response.status_code == 404
    assert b"This invitation link is not valid." in response.content


def test_a_revoked_link_is_no_longer_valid(client_as: ClientAs, workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace)
    link = _link(invitation)
    client_as("owner").post(reverse("core:invitation_revoke", args=[invitation.pk]))
    response = Client().get(link)
    assert response.status_code == 404
    assert b"no longer valid" in response.content


def test_a_signed_in_invitee_joins_with_one_click(
    client_as: ClientAs, workspace: Workspace, outsider: User
) -> None:
    invitation = InvitationFactory(workspace=workspace, email=outsider.email, role=Role.EDITOR)
    client = client_as("outsider")
    assert b"Join Acme</button>" in client.get(_link(invitation)).content
    response = client.post(_link(invitation), follow=True)
    assert response.context["current_workspace"] == workspace
    assert Membership.objects.get(user=outsider, workspace=workspace).role == Role.EDITOR


def test_someone_else_signed_in_is_told_to_log_out(
    client_as: ClientAs, workspace: Workspace
) -> None:
    invitation = InvitationFactory(workspace=workspace, email="someone@example.test")
    client = client_as("viewer")
    assert b"but you are logged in as viewer@acme.test" in client.get(_link(invitation)).content
    response = client.post(_link(invitation))
    assert response.status_code == 403
    assert not Invitation.objects.get(pk=invitation.pk).is_accepted


def test_an_existing_account_is_asked_to_log_in_first(client: Client, workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="outsider@globex.test")
    User.objects.create_user("outsider@globex.test", "outsider@globex.test", PASSWORD)
    link = _link(invitation)
    page = client.get(link)
    assert b"Log in to accept" in page.content
    assert f"?next={quote(link)}".encode() in page.content
    response = client.post(link, {"password1": "x", "password2": "x"})
    assert response.status_code == 200  # the page again; no account was changed
    assert not Invitation.objects.get(pk=invitation.pk).is_accepted
    # Logging in brings them back to the link, where one click joins.
    response = client.post(
        reverse("login"), {"username": invitation.email, "password": PASSWORD, "next": link}
    )
    assert response["Location"] == link
    client.post(link)
    assert Invitation.objects.get(pk=invitation.pk).is_accepted
