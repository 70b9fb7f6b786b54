"""Logging in by email, logging out, changing the password, and CSRF protection."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import ClientAs
from tests.factories import PASSWORD


def test_login_page_renders_for_anonymous(client: Client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b">Email:</label>" in response.content


def test_login_with_email_in_any_case(client: Client, owner: User) -> None:
    response = client.post(reverse("login"), {"username": "Owner@ACME.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get(reverse("core:home")).context["user"] == owner


def test_wrong_password_says_so_and_logs_nobody_in(client: Client, owner: User) -> None:
    response = client.post(reverse("login"), {"username": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert b"That email and password do not match an account." in response.content
    assert not response.context["user"].is_authenticated


def test_login_follows_a_safe_next_only(client: Client, owner: User) -> None:
    members = reverse("core:member_list")
    response = client.post(
        reverse("login"), {"username": owner.email, "password": PASSWORD, "next": members}
    )
    assert response["Location"] == members
    client.logout()
    response = client.post(
        reverse("login"),
        {"username": owner.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("core:home")


def test_logged_in_user_visiting_login_goes_home(client_as: ClientAs) -> None:
    response = client_as("viewer").get(reverse("login"))
    assert response.status_code == 302


def test_logout_is_post_only(client_as: ClientAs) -> None:
    client = client_as("viewer")
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 302  # back to the login page


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_password_change_page_access(client_as: ClientAs, persona: str, status: int) -> None:
    assert client_as(persona).get(reverse("password_change")).status_code == status


def test_password_change_keeps_the_session_and_takes_effect(
    client_as: ClientAs, viewer: User
) -> None:
    client = client_as("viewer")
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-pass-phrase",
            "new_password2": "a-brand-new-pass-phrase",
        },
        follow=True,
    )
    assert b"Password changed" in response.content
    viewer.refresh_from_db()
    assert viewer.check_password("a-brand-new-pass-phrase")
    assert client.get(reverse("core:home")).status_code == 200


def test_password_change_with_wrong_old_password_is_a_form_error(
    client_as: ClientAs, viewer: User
) -> None:
    response = client_as("viewer").post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x-long-one-1", "new_password2": "x-long-one-1"},
    )
    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content
    viewer.refresh_from_db()
    assert viewer.check_password(PASSWORD)


def test_post_without_csrf_token_gets_the_friendly_403(viewer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert b"This form could not be sent" in response.content
    assert b"CSRF verification failed" not in response.content  # our page, not Django's
    assert client.get(reverse("core:home")).status_code == 200  # still logged in


def test_login_without_csrf_token_gets_the_friendly_403(owner: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 403
    assert b"reload the page" in response.content
