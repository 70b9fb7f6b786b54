"""Friendly error pages: no traceback, no exception text, a way back."""

from __future__ import annotations

from django.conf import settings
from django.test import Client, override_settings

from tests.conftest import ClientAs


@override_settings(ROOT_URLCONF="tests.core.urls_failing", DEBUG=False)
def test_server_error_shows_the_friendly_500_page(db: None) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test-failure/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html
    assert settings.SECRET_KEY not in html


@override_settings(ROOT_URLCONF="tests.core.urls_failing", DEBUG=False)
def test_server_error_for_a_logged_in_user_is_the_same_friendly_page(client_as: ClientAs) -> None:
    client = client_as("owner")
    client.raise_request_exception = False
    response = client.get("/test-failure/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"owner@acme.test" not in response.content  # rendered without the request


def test_404_page_does_not_echo_the_lookup(client_as: ClientAs) -> None:
    response = client_as("owner").post(
        "/members/00000000-0000-0000-0000-000000000000/role/", {"role": "viewer"}
    )
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"No such object" not in response.content
