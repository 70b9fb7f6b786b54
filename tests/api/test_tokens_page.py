"""The API tokens page: create (shown once, stored hashed), revoke, owners oversee everyone's."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.api.models import ApiToken
from reqflo.api.services import api_token_create
from reqflo.core.models import Workspace
from tests.conftest import ClientAs


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_page_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse("tokens:token_list"))
    assert response.status_code == status


def test_a_new_token_is_shown_once_and_stored_hashed(
    client_as: ClientAs, editor: User, workspace: Workspace
) -> None:
    client = client_as("editor")
    response = client.post(reverse("tokens:token_create"), {"name": "laptop", "expires_in": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=editor)
    key = response.context["new_key"]
    assert key.startswith("rqf_")
    assert key in response.content.decode()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.workspace == workspace
    assert token.expires_at is not None
    # The key is in no column, and never shown again.
    for field in ("name", "key_hash", "hint"):
        assert getattr(token, field) != key
    assert key not in client.get(reverse("tokens:token_list")).content.decode()


def test_a_blank_name_is_a_form_error(client_as: ClientAs, editor: User) -> None:
    response = client_as("editor").post(reverse("tokens:token_create"), {"name": " "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_member_revokes_their_own_token(
    client_as: ClientAs, editor: User, workspace: Workspace
) -> None:
    token = api_token_create(user=editor, workspace=workspace, name="laptop").token
    response = client_as("editor").post(reverse("tokens:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == editor


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("editor", 404), ("viewer", 404), ("outsider", 404), ("anonymous", 302)],
)
def test_revoking_someone_elses_token(
    client_as: ClientAs, viewer: User, editor: User, workspace: Workspace, persona: str, status: int
) -> None:
    token = api_token_create(user=viewer, workspace=workspace, name="ci").token
    if persona == "viewer":
        token = api_token_create(user=editor, workspace=workspace, name="other").token
    response = client_as(persona).post(reverse("tokens:token_revoke", args=[token.pk]))
    assert response.status_code == status
    token.refresh_from_db()
    assert (token.revoked_at is not None) is (persona == "owner")


def test_owners_see_every_members_token_and_others_only_their_own(
    client_as: ClientAs, owner: User, editor: User, viewer: User, workspace: Workspace
) -> None:
    api_token_create(user=editor, workspace=workspace, name="editor-laptop")
    api_token_create(user=viewer, workspace=workspace, name="viewer-ci")
    owner_page = client_as("owner").get(reverse("tokens:token_list")).content.decode()
    assert "editor-laptop" in owner_page
    assert "viewer-ci" in owner_page
    viewer_page = client_as("viewer").get(reverse("tokens:token_list")).content.decode()
    assert "viewer-ci" in viewer_page
    assert "editor-laptop" not in viewer_page


def test_htmx_revoke_answers_the_tokens_partial(
    client_as: ClientAs, editor: User, workspace: Workspace
) -> None:
    token = api_token_create(user=editor, workspace=workspace, name="laptop").token
    response = client_as("editor").post(
        reverse("tokens:token_revoke", args=[token.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="tokens"' in body
    assert "<html" not in body
    assert "Revoked" in body
