"""Membership and invitation rules, enforced in the services whatever the page does."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reqflo.core import services
from reqflo.core.models import Invitation, Membership, Role, Workspace
from tests.factories import InvitationFactory, MembershipFactory, UserFactory


def test_adding_an_existing_user_makes_them_a_member_at_once(
    workspace: Workspace, owner: User
) -> None:
    newcomer = UserFactory(email="newcomer@example.test")
    added = services.member_add(
        workspace=workspace, email="  NewComer@Example.test ", role=Role.VIEWER, invited_by=owner
    )
    assert added.invitation is None
    assert added.membership is not None
    assert added.membership.user == newcomer
    assert added.membership.role == Role.VIEWER


def test_adding_an_unknown_email_creates_an_invitation(workspace: Workspace, owner: User) -> None:
    added = services.member_add(
        workspace=workspace, email="Stranger@Example.test", role=Role.EDITOR, invited_by=owner
    )
    assert added.membership is None
    assert added.invitation is not None
    assert added.invitation.email == "stranger@example.test"
    assert added.invitation.expires_at > timezone.now() + timedelta(days=6)
    assert not User.objects.filter(username="stranger@example.test").exists()


def test_inviting_the_same_email_again_replaces_the_open_invitation(
    workspace: Workspace, owner: User
) -> None:
    first = services.invitation_create(
        workspace=workspace, email="x@example.test", role=Role.EDITOR, invited_by=owner
    )
    second = services.invitation_create(
        workspace=workspace, email="x@example.test", role=Role.VIEWER, invited_by=owner
    )
    assert list(Invitation.objects.filter(workspace=workspace)) == [second]
    assert first.pk != second.pk


def test_adding_a_member_twice_is_refused_with_their_email(
    workspace: Workspace, owner: User, editor: User
) -> None:
    with pytest.raises(services.AlreadyMemberError, match=r"editor@acme\.test is already a member"):
        services.member_add(
            workspace=workspace, email=editor.email, role=Role.VIEWER, invited_by=owner
        )


def test_last_owner_cannot_be_demoted(workspace: Workspace, owner: User, membership_of) -> None:
    with pytest.raises(services.LastOwnerError, match="last owner of Acme"):
        services.membership_change_role(membership=membership_of(owner), role=Role.EDITOR)
    assert membership_of(owner).role == Role.OWNER


def test_last_owner_cannot_be_removed(workspace: Workspace, owner: User, membership_of) -> None:
    with pytest.raises(services.LastOwnerError, match="cannot be removed"):
        services.membership_remove(membership=membership_of(owner))
    assert Membership.objects.filter(user=owner, workspace=workspace).exists()


def test_an_owner_can_step_down_once_another_owner_exists(
    workspace: Workspace, owner: User, editor: User, membership_of
) -> None:
    services.membership_change_role(membership=membership_of(editor), role=Role.OWNER)
    services.membership_change_role(membership=membership_of(owner), role=Role.VIEWER)
    assert membership_of(owner).role == Role.VIEWER
    assert membership_of(editor).role == Role.OWNER


def test_removing_a_member_deletes_only_that_membership(
    workspace: Workspace, owner: User, viewer: User, membership_of
) -> None:
    services.membership_remove(membership=membership_of(viewer))
    assert not Membership.objects.filter(user=viewer).exists()
    assert User.objects.filter(pk=viewer.pk).exists()


def test_database_rejects_a_role_that_does_not_exist(workspace: Workspace) -> None:
    with pytest.raises(IntegrityError, match="membership_role_valid"):
        MembershipFactory(workspace=workspace, role="admin")


def test_roles_nest_owner_editor_viewer() -> None:
    assert Role.OWNER.includes(Role.EDITOR)
    assert Role.EDITOR.includes(Role.VIEWER)
    assert Role.EDITOR.includes(Role.EDITOR)
    assert not Role.VIEWER.includes(Role.EDITOR)
    assert not Role.EDITOR.includes(Role.OWNER)


@pytest.mark.django_db(transaction=True)
def test_concurrent_demotions_of_two_owners_leave_one_owner() -> None:
    # Two owners, each demoted by a different request at the same time: without the workspace
    # row lock both would see "another owner exists" and the workspace would end with none.
    workspace = Workspace.objects.create(name="Race", slug="race")
    first = MembershipFactory(workspace=workspace, role=Role.OWNER)
    second = MembershipFactory(workspace=workspace, role=Role.OWNER)
    outcome: dict[str, object] = {}

    def demote_second() -> None:
        try:
            services.membership_change_role(membership=second, role=Role.EDITOR)
            outcome["second"] = "demoted"
        except services.LastOwnerError:
            outcome["second"] = "refused"
        finally:
            connection.close()

    with transaction.atomic():
        # Hold the lock the service takes, start the competing demotion, and check it waits.
        Workspace.objects.select_for_update().get(pk=workspace.pk)
        competitor = threading.Thread(target=demote_second)
        competitor.start()
        competitor.join(timeout=0.5)
        assert competitor.is_alive(), "the competing demotion did not wait for the lock"
        services.membership_change_role(membership=first, role=Role.EDITOR)
    competitor.join(timeout=10)

    assert outcome == {"second": "refused"}
    assert list(
        Membership.objects.filter(workspace=workspace, role=Role.OWNER).values_list("pk", flat=True)
    ) == [second.pk]


# --- Invitations ----------------------------------------------------------------------------


def test_accepting_an_invitation_creates_the_user_and_membership(workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="new@example.test", role=Role.VIEWER)
    membership = services.invitation_accept(invitation=invitation, password="a-long-pass-phrase")
    assert membership.role == Role.VIEWER
    assert membership.user.username == "new@example.test"
    assert membership.user.check_password("a-long-pass-phrase")
    invitation.refresh_from_db()
    assert invitation.accepted_by == membership.user
    assert invitation.accepted_at is not None


def test_an_invitation_works_only_once(workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="new@example.test")
    services.invitation_accept(invitation=invitation, password="a-long-pass-phrase")
    with pytest.raises(services.InvitationError, match="already been used") as error:
        services.invitation_accept(invitation=invitation, password="another-pass-phrase")
    assert error.value.reason == "used"


def test_an_expired_invitation_is_refused_with_its_date(workspace: Workspace) -> None:
    invitation = InvitationFactory(
        workspace=workspace, expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(services.InvitationError, match="expired on") as error:
        services.invitation_accept(invitation=invitation, password="a-long-pass-phrase")
    assert error.value.reason == "expired"
    assert not Membership.objects.filter(workspace=workspace, user__email=invitation.email).exists()


def test_a_signed_in_user_accepts_an_invitation_for_their_email(
    workspace: Workspace, outsider: User
) -> None:
    invitation = InvitationFactory(workspace=workspace, email=outsider.email, role=Role.EDITOR)
    membership = services.invitation_accept(invitation=invitation, user=outsider)
    assert membership.workspace == workspace
    assert membership.role == Role.EDITOR


def test_an_invitation_for_someone_else_is_refused(workspace: Workspace, outsider: User) -> None:
    invitation = InvitationFactory(workspace=workspace, email="someone@example.test")
    with pytest.raises(services.InvitationError, match="you are logged in as") as error:
        services.invitation_accept(invitation=invitation, user=outsider)
    assert error.value.reason == "wrong_user"


def test_creating_a_workspace_makes_the_creator_its_owner(outsider: User) -> None:
    created = services.workspace_create(name="Globex", owner=outsider)
    assert created.slug == "globex-2"  # "globex" is taken by the outsider's first workspace
    assert Membership.objects.get(workspace=created).role == Role.OWNER


@pytest.mark.django_db(transaction=True)
def test_two_workspaces_created_at_once_with_one_name_get_distinct_slugs() -> None:
    owner = UserFactory(email="racer@example.test")
    created: dict[str, str] = {}

    def create_race() -> None:
        try:
            created["slug"] = services.workspace_create(name="Race", owner=owner).slug
        finally:
            connection.close()

    with transaction.atomic():
        # Another request inserts "race" but has not committed: the look-up misses it, the insert
        # waits on the unique index and fails once this commits; the service takes "race-2".
        Workspace.objects.create(name="Race", slug="race")
        competitor = threading.Thread(target=create_race)
        competitor.start()
        competitor.join(timeout=0.5)
        assert competitor.is_alive(), "the competing insert did not wait on the unique index"
    competitor.join(timeout=10)

    assert created == {"slug": "race-2"}
    assert sorted(Workspace.objects.values_list("slug", flat=True)) == ["race", "race-2"]
