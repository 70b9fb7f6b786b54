"""The request log: a refused permission is one line, and no URL token reaches any line."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest
from django.conf import settings
from django.urls import reverse

from reqflo.core.invitations import invitation_token
from reqflo.core.models import Workspace
from tests.conftest import ClientAs
from tests.factories import InvitationFactory
from tests.live_app import LiveApp, test_database_url

pytestmark = pytest.mark.django_db


def _configured_lines(records: list[logging.LogRecord]) -> list[str]:
    """The records as the configured console handler writes them (format and traceback)."""
    fmt = settings.LOGGING["formatters"]["plain"]["format"]
    formatter = logging.Formatter(fmt)
    return [formatter.format(record) for record in records]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", lambda: reverse("schedules:create")),  # require_role
        ("post", lambda: reverse("schedules:channel_rotate", args=[uuid4()])),  # owners only
        ("post", lambda: reverse("secrets:secret_create")),
    ],
)
def test_a_refused_permission_is_one_warning_line_without_traceback(
    client_as: ClientAs, caplog: pytest.LogCaptureFixture, method: str, url: object
) -> None:
    assert callable(url)
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = getattr(client_as("viewer"), method)(url())
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    [line] = _configured_lines(records)
    assert "\n" not in line
    assert "Traceback" not in line
    assert records[0].levelname == "WARNING"
    assert response.status_code in (403, 404)
    if response.status_code == 403:
        assert "Forbidden (Permission denied):" in line


@pytest.mark.parametrize("status", [403, 410, 404])
def test_an_invitation_token_never_reaches_the_log(
    client_as: ClientAs,
    workspace: Workspace,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    invitation = InvitationFactory(workspace=workspace, email="someone@example.test")
    token = invitation_token(invitation)
    client = client_as("viewer")  # signed in as someone else: 403
    if status == 410:
        invitation.delete()
        invitation = InvitationFactory(workspace=workspace, email="new@example.test")
        token = invitation_token(invitation)
        client = client_as("anonymous")
        password = "a-long-new-pass-phrase"
        client.post(
            reverse("core:invitation_accept", args=[token]),
            {"password1": password, "password2": password},
        )
        client = client_as("anonymous")
    elif status == 404:
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("core:invitation_accept", args=[token]))
    assert response.status_code == status
    text = "\n".join(_configured_lines(caplog.records))
    assert "/invitations/…/" in text
    assert token not in text
    assert token[:12] not in text
    assert "Traceback" not in text


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_never_shows_an_invitation_token(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The Procfile's web line under real gunicorn: request line, ?next= and Referer masked."""
    token = invitation_token(InvitationFactory(workspace=workspace, email="a@example.test"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reqflo.test_settings",  # static files from the source
        "DATABASE_URL": test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # the token is signed with it
        "ALLOWED_HOSTS": "127.0.0.1",
        "REQFLO_VAR_DIR": str(tmp_path),
    }
    app = LiveApp(env=env, log=tmp_path / "gunicorn.log")
    app.start(ready_path="/accounts/login/")
    link = reverse("core:invitation_accept", args=[token])
    try:
        with httpx.Client(base_url=app.url) as client:
            opened = client.get(link, headers={"Referer": f"{app.url}{link}"})
            signed_in = client.get(
                "/accounts/login/", params={"next": link}, headers={"Referer": app.url + link}
            )
    finally:
        app.stop()
    assert opened.status_code == signed_in.status_code == 200
    text = (tmp_path / "gunicorn.log").read_text()
    access_lines = [
        line
        for line in text.splitlines()
        if line.startswith("127.0.0.1 - - [") and "nvitations" in line
    ]
    assert len(access_lines) == 2, text  # one access line per request, each saying where it went
    assert "/invitations/…/" in text
    assert "%2Finvitations%2F…%2F" in text
    for spelling in (token, token[:12], quote(token, safe=""), token.lower()):
        assert spelling not in text
