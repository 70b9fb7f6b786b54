"""The members page and its actions: access matrix, rules shown as messages, htmx branches."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.core.models import Invitation, Membership, Role, Workspace
from tests.conftest import ClientAs
from tests.factories import InvitationFactory, UserFactory

MembershipOf = Callable[[User], Membership]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Access matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_member_list_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse("core:member_list"))
    assert response.status_code == status
    html = response.content.decode()
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    elif persona == "outsider":
        assert "owner@acme.test" not in html  # their own workspace's list, never Acme's
        assert "outsider@globex.test" in html
    else:
        assert "viewer@acme.test" in html


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_member_list_is_read_only_below_owner(client_as: ClientAs, persona: str) -> None:
    html = client_as(persona).get(reverse("core:member_list")).content.decode()
    assert "Only owners can add, change or remove members." in html
    assert 'name="role"' not in html
    assert "Remove" not in html
    assert "Add a member" not in html


def test_invitation_links_are_shown_to_owners_only(
    client_as: ClientAs, workspace: Workspace
) -> None:
    invitation = InvitationFactory(workspace=workspace, email="pending@example.test")
    owner_html = client_as("owner").get(reverse("core:member_list")).content.decode()
    assert "pending@example.test" in owner_html
    assert reverse("core:invitation_accept", args=["x"]).rsplit("x", 1)[0] in owner_html
    for persona in ("editor", "viewer"):
        html = client_as(persona).get(reverse("core:member_list")).content.decode()
        assert "pending@example.test" not in html
    assert invitation.pk  # still open


ACTION_MATRIX = [
    ("owner", 302),
    ("editor", 403),
    ("viewer", 403),
    ("outsider", 404),
    ("anonymous", 302),
]


@pytest.mark.parametrize(("persona", "status"), ACTION_MATRIX)
def test_change_role_access(
    client_as: ClientAs, membership_of: MembershipOf, viewer: User, persona: str, status: int
) -> None:
    target = membership_of(viewer)
    response = client_as(persona).post(
        reverse("core:member_role", args=[target.pk]), {"role": "editor"}
    )
    assert response.status_code == status
    target.refresh_from_db()
    assert target.role == (Role.EDITOR if persona == "owner" else Role.VIEWER)
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("persona", "status"), ACTION_MATRIX)
def test_remove_member_access(
    client_as: ClientAs, membership_of: MembershipOf, viewer: User, persona: str, status: int
) -> None:
    target = membership_of(viewer)
    response = client_as(persona).post(reverse("core:member_remove", args=[target.pk]))
    assert response.status_code == status
    assert Membership.objects.filter(pk=target.pk).exists() == (persona != "owner")


@pytest.mark.parametrize(("persona", "status"), ACTION_MATRIX)
def test_revoke_invitation_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int
) -> None:
    invitation = InvitationFactory(workspace=workspace)
    response = client_as(persona).post(reverse("core:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == status
    assert Invitation.objects.filter(pk=invitation.pk).exists() == (persona != "owner")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 403), ("viewer", 403), ("outsider", 302), ("anonymous", 302)],
)
def test_add_member_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int
) -> None:
    UserFactory(email="newcomer@example.test")
    response = client_as(persona).post(
        reverse("core:member_add"), {"email": "newcomer@example.test", "role": "viewer"}
    )
    assert response.status_code == status
    joined_acme = Membership.objects.filter(
        workspace=workspace, user__email="newcomer@example.test"
    ).exists()
    # The outsider is an owner too, but of Globex: the add goes to *their* current workspace.
    assert joined_acme == (persona == "owner")


def test_editor_gets_a_friendly_403_naming_the_role(client_as: ClientAs) -> None:
    response = client_as("editor").post(
        reverse("core:member_add"), {"email": "x@example.test", "role": "viewer"}
    )
    assert response.status_code == 403
    assert b"You need the owner role to add members." in response.content


# --- Owner actions ---------------------------------------------------------------------------


def test_owner_adds_an_existing_user(client_as: ClientAs, workspace: Workspace) -> None:
    UserFactory(email="newcomer@example.test")
    response = client_as("owner").post(
        reverse("core:member_add"),
        {"email": "NewComer@example.test", "role": "editor"},
        follow=True,
    )
    assert "newcomer@example.test joined as Editor." in _messages(response)
    assert Membership.objects.get(
        workspace=workspace, user__email="newcomer@example.test"
    ).role == (Role.EDITOR)


def test_owner_invites_an_unknown_email_and_sees_the_link(
    client_as: ClientAs, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="reqflo.core.invitations")
    response = client_as("owner").post(
        reverse("core:member_add"),
        {"email": "stranger@example.test", "role": "viewer"},
        follow=True,
    )
    invitation = Invitation.objects.get(workspace=workspace, email="stranger@example.test")
    html = response.content.decode()
    assert "stranger@example.test has no account yet" in html
    link_path = reverse("core:invitation_accept", args=["TOKEN"]).replace("TOKEN/", "")
    assert f"http://testserver{link_path}" in html
    assert str(invitation.pk) in html
    assert any("stranger@example.test" in record.getMessage() for record in caplog.records)


def test_adding_an_existing_member_shows_a_form_error(client_as: ClientAs, editor: User) -> None:
    response = client_as("owner").post(
        reverse("core:member_add"), {"email": editor.email, "role": "viewer"}
    )
    assert response.status_code == 400
    assert b"editor@acme.test is already a member of Acme." in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "a@example.test", "role": "superuser"}, b"superuser is not a role"),
        ({"email": "not-an-email", "role": "viewer"}, b"Enter a valid email address."),
        ({"email": "", "role": ""}, b"This field is required."),
        (
            {
                "email": "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "@example.test",
                "role": "viewer",
            },
            b"Use an email address of at most 150 characters (this one has 195).",
        ),
    ],
)
def test_add_member_bad_input_is_a_form_error(
    client_as: ClientAs, workspace: Workspace, data: dict[str, str], message: bytes
) -> None:
    response = client_as("owner").post(reverse("core:member_add"), data)
    assert response.status_code == 400
    assert message in response.content
    assert Membership.objects.filter(workspace=workspace).count() == 3  # the three personas
    assert not Invitation.objects.exists()


def test_unknown_role_on_change_is_a_message_not_a_500(
    client_as: ClientAs, membership_of: MembershipOf, viewer: User
) -> None:
    target = membership_of(viewer)
    response = client_as("owner").post(
        reverse("core:member_role", args=[target.pk]), {"role": "god"}, follow=True
    )
    assert response.status_code == 200
    assert "god is not a role; choose owner, editor or viewer." in _messages(response)
    target.refresh_from_db()
    assert target.role == Role.VIEWER


def test_demoting_the_last_owner_shows_a_clear_error(
    client_as: ClientAs, membership_of: MembershipOf, owner: User
) -> None:
    target = membership_of(owner)
    response = client_as("owner").post(
        reverse("core:member_role", args=[target.pk]), {"role": "viewer"}, follow=True
    )
    assert any("last owner of Acme" in m for m in _messages(response))
    target.refresh_from_db()
    assert target.role == Role.OWNER


def test_removing_the_last_owner_shows_a_clear_error(
    client_as: ClientAs, membership_of: MembershipOf, owner: User
) -> None:
    target = membership_of(owner)
    response = client_as("owner").post(reverse("core:member_remove", args=[target.pk]), follow=True)
    assert any("cannot be removed" in m for m in _messages(response))
    assert Membership.objects.filter(pk=target.pk).exists()


def test_owner_who_removes_themselves_goes_home(
    client_as: ClientAs, membership_of: MembershipOf, owner: User, editor: User
) -> None:
    Membership.objects.filter(user=editor).update(role=Role.OWNER)
    response = client_as("owner").post(
        reverse("core:member_remove", args=[membership_of(owner).pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")


# --- htmx branches ---------------------------------------------------------------------------


def test_htmx_role_change_returns_the_members_partial(
    client_as: ClientAs, membership_of: MembershipOf, viewer: User
) -> None:
    target = membership_of(viewer)
    response = client_as("owner").post(
        reverse("core:member_role", args=[target.pk]), {"role": "editor"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="members"')
    assert "<html" not in html
    assert 'hx-swap-oob="true"' in html
    assert "viewer@acme.test is now Editor." in html


def test_htmx_add_with_bad_input_returns_the_partial_with_errors(client_as: ClientAs) -> None:
    response = client_as("owner").post(
        reverse("core:member_add"), {"email": "bad", "role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content
    assert b"<html" not in response.content


def test_htmx_self_removal_redirects_the_browser_home(
    client_as: ClientAs, membership_of: MembershipOf, owner: User, editor: User
) -> None:
    Membership.objects.filter(user=editor).update(role=Role.OWNER)
    response = client_as("owner").post(
        reverse("core:member_remove", args=[membership_of(owner).pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("core:home")


def test_get_on_an_action_is_not_allowed(
    client_as: ClientAs, membership_of: MembershipOf, viewer: User
) -> None:
    response = client_as("owner").get(
        reverse("core:member_remove", args=[membership_of(viewer).pk])
    )
    assert response.status_code == 405
    assert Membership.objects.filter(user=viewer).exists()
