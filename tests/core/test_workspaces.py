"""Switching workspaces, creating one, and the access helpers behind workspace URLs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reqflo.core.access import SESSION_KEY
from reqflo.core.models import Membership, Role, Workspace
from tests.conftest import ClientAs
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def second_workspace(owner: User) -> Workspace:
    """A workspace Acme's owner also belongs to (as a viewer), to switch into."""
    membership = MembershipFactory(user=owner, workspace__name="Zeta", role=Role.VIEWER)
    return membership.workspace


def test_owner_switches_to_another_of_their_workspaces(
    client_as: ClientAs, second_workspace: Workspace
) -> None:
    client = client_as("owner")
    assert client.get(reverse("core:home")).context["current_workspace"].name == "Acme"
    response = client.post(reverse("core:workspace_switch", args=[second_workspace.pk]))
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(second_workspace.pk)
    page = client.get(reverse("core:home"))
    assert page.context["current_workspace"] == second_workspace
    assert b'data-testid="my-role">Viewer</span>' in page.content
    assert "Switched to Zeta." in [str(m) for m in page.context["messages"]]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 302), ("viewer", 302), ("outsider", 404), ("anonymous", 302)],
)
def test_switch_access(
    client_as: ClientAs, workspace: Workspace, persona: str, status: int
) -> None:
    client = client_as(persona)
    response = client.post(reverse("core:workspace_switch", args=[workspace.pk]))
    assert response.status_code == status
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if persona == "outsider":
        assert b"Page not found" in response.content
        assert client.session[SESSION_KEY] != str(workspace.pk)


def test_switch_to_a_workspace_id_that_does_not_exist_is_404(client_as: ClientAs) -> None:
    response = client_as("owner").post(
        reverse("core:workspace_switch", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


def test_switch_by_htmx_redirects_the_browser(
    client_as: ClientAs, second_workspace: Workspace
) -> None:
    response = client_as("owner").post(
        reverse("core:workspace_switch", args=[second_workspace.pk]), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("core:home")


def test_switcher_lists_only_my_workspaces(
    client_as: ClientAs, second_workspace: Workspace
) -> None:
    html = client_as("owner").get(reverse("core:home")).content.decode()
    assert reverse("core:workspace_switch", args=[second_workspace.pk]) in html
    assert "Globex" not in html


def test_a_removed_membership_falls_back_to_another_workspace(
    client_as: ClientAs, second_workspace: Workspace, owner: User, workspace: Workspace
) -> None:
    client = client_as("owner")
    client.post(reverse("core:workspace_switch", args=[second_workspace.pk]))
    Membership.objects.filter(user=owner, workspace=second_workspace).delete()
    assert client.get(reverse("core:home")).context["current_workspace"] == workspace


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_workspace_list_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse("core:workspace_list"))
    assert response.status_code == status
    if persona == "outsider":
        assert b"Acme" not in response.content


def test_user_without_a_workspace_is_sent_to_create_one(db: None) -> None:
    loner = UserFactory(email="loner@example.test")
    client = Client()
    client.force_login(loner)
    response = client.get(reverse("core:member_list"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("core:workspace_list")
    assert b"not a member of any workspace yet" in response.content
    response = client.post(reverse("core:workspace_create"), {"name": "Loner Labs"}, follow=True)
    assert response.context["current_workspace"].name == "Loner Labs"
    assert Membership.objects.get(user=loner).role == Role.OWNER


def test_creating_a_workspace_without_a_name_is_a_form_error(client_as: ClientAs) -> None:
    response = client_as("viewer").post(reverse("core:workspace_create"), {"name": "  "})
    assert response.status_code == 400
    assert b"This field is required." in response.content


def test_anonymous_cannot_create_a_workspace(client_as: ClientAs) -> None:
    response = client_as("anonymous").post(reverse("core:workspace_create"), {"name": "X"})
    assert response.status_code == 302
    assert not Workspace.objects.filter(name="X").exists()


def test_acting_on_an_object_of_another_of_my_workspaces_switches_to_it(
    client_as: ClientAs, owner: User, workspace: Workspace
) -> None:
    # Deep links work: Zeta's member page action switches the owner's current workspace.
    zeta = MembershipFactory(user=owner, workspace__name="Zeta", role=Role.OWNER).workspace
    colleague = MembershipFactory(workspace=zeta, role=Role.VIEWER)
    client = client_as("owner")
    assert client.get(reverse("core:home")).context["current_workspace"] == workspace
    client.post(reverse("core:member_role", args=[colleague.pk]), {"role": "editor"})
    assert client.session[SESSION_KEY] == str(zeta.pk)
    colleague.refresh_from_db()
    assert colleague.role == Role.EDITOR
