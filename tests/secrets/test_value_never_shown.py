"""A secret value never reaches a page, fragment, form error, export, build artifact, the
Django admin or an error page, whoever looks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from reqflo.journeys.services import build_artifact_for_version
from reqflo.secrets import services
from reqflo.secrets.crypto import StoreCipher
from reqflo.secrets.models import Secret, SecretAuditEvent, SecretValue
from reqflo.secrets.resolution import secrets_resolve
from reqflo.secrets.selectors import secret_names_in_plan
from tests.secrets.conftest import (
    PRODUCTION_VALUE,
    ROTATED_VALUE,
    SECRET_VALUE,
    assert_no_value,
    publish_journey,
)

pytestmark = pytest.mark.django_db


TOO_LONG = ROTATED_VALUE + "y" * (64 * 1024)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "full page"])
@pytest.mark.parametrize(
    ("url_name", "data", "message"),
    [
        ("secrets:secret_rotate", {"value": TOO_LONG}, "the limit is 64 KiB"),
        (
            "secrets:secret_environment_set",
            {"environment": "production", "value": TOO_LONG},
            "the limit is 64 KiB",
        ),
        ("secrets:secret_rotate", {"value": ""}, "Value is required."),
        (
            "secrets:secret_environment_set",
            {"environment": "", "value": PRODUCTION_VALUE},
            "Choose an environment.",
        ),
    ],
)
def test_value_form_errors_never_echo_the_value_back(
    secret: Secret,
    owner: User,
    login: Callable[[User | None], Client],
    url_name: str,
    data: dict[str, str],
    message: str,
    htmx: bool,
) -> None:
    before = list(SecretValue.objects.values_list("fingerprint", flat=True).order_by("id"))
    response = login(owner).post(
        reverse(url_name, args=[secret.pk]), data, headers={"HX-Request": "true"} if htmx else {}
    )
    assert response.status_code == 400  # form errors, the one rule of reqflo/core/http.py
    page = response.content.decode()
    assert message in page
    assert_no_value(page, f"{url_name} with an error")
    # Every value input is rendered empty.
    assert page.count('type="password"') == 2
    assert 'type="password" name="value" value=' not in page
    assert list(SecretValue.objects.values_list("fingerprint", flat=True).order_by("id")) == before


def test_journey_pages_and_yaml_export_hold_the_reference_never_the_value(
    secret: Secret,
    owner: User,
    editor: User,
    viewer: User,
    login: Callable[[User | None], Client],
) -> None:
    journey = publish_journey(secret.workspace, owner, "Checkout", "{{ secrets.payments_api_key }}")
    # A run resolves (and uses) the secret: nothing of that reaches the journey's pages.
    secrets_resolve(
        workspace=secret.workspace, names=["payments_api_key"], environment="", run_id="r"
    )
    for user in (owner, editor, viewer):
        client = login(user)
        export = client.get(reverse("journeys:version_export", args=[journey.pk, 1]))
        assert export.status_code == 200
        assert "{{ secrets.payments_api_key }}" in export.content.decode()
        assert_no_value(export.content.decode(), "the YAML export")
        for url in (
            reverse("journeys:journey_editor", args=[journey.pk]),
            reverse("journeys:journey_history", args=[journey.pk]),
            reverse("journeys:journey_list"),
        ):
            page = client.get(url)
            assert page.status_code == 200
            assert_no_value(page.content.decode(), url)

    # The stored build artifact holds the reference, which is what resolution reads.
    artifact = build_artifact_for_version(version=journey.versions.get(number=1))
    assert_no_value(artifact.plan, "the stored build artifact")
    assert secret_names_in_plan(json.loads(artifact.plan)) == {"payments_api_key"}


def test_no_page_or_fragment_shows_a_value_to_any_member(
    secret: Secret,
    owner: User,
    editor: User,
    viewer: User,
    login: Callable[[User | None], Client],
) -> None:
    owner_client = login(owner)
    detail = reverse("secrets:secret_detail", args=[secret.pk])
    htmx = {"HX-Request": "true"}
    # Owner actions whose responses are pages or fragments, all sent with real values.
    responses = [
        owner_client.post(
            reverse("secrets:secret_rotate", args=[secret.pk]),
            {"value": ROTATED_VALUE},
            headers=htmx,
        ),
        owner_client.post(
            reverse("secrets:secret_environment_set", args=[secret.pk]),
            {"environment": "production", "value": PRODUCTION_VALUE},
            headers=htmx,
        ),
        owner_client.post(
            reverse("secrets:secret_environment_clear", args=[secret.pk]),
            {"environment": "production"},
            headers=htmx,
        ),
        owner_client.post(
            reverse("secrets:secret_rotate", args=[secret.pk]),
            {"value": ROTATED_VALUE},
            follow=True,
        ),
        owner_client.post(
            reverse("secrets:secret_create"), {"name": "bad name", "value": PRODUCTION_VALUE}
        ),
    ]
    for response in responses:
        # The last one is a form with errors (400, the one rule of reqflo/core/http.py).
        assert response.status_code == (400 if response is responses[-1] else 200)
        assert_no_value(response.content.decode(), f"response to {response.request['PATH_INFO']}")

    pages = [
        (reverse("secrets:secret_list"), {}),
        (reverse("secrets:secret_list"), htmx),
        (reverse("secrets:secret_list") + "?q=payments", htmx),
        (detail, {}),
        (reverse("secrets:secret_delete", args=[secret.pk]), {}),
        (reverse("secrets:secret_create"), {}),
        (reverse("secrets:audit_list"), {}),
        (reverse("secrets:audit_list") + "?kind=rotated", htmx),
    ]
    for user in (owner, editor, viewer):
        client = login(user)
        for url, headers in pages:
            response = client.get(url, headers=headers)
            assert response.status_code in (200, 403)
            assert_no_value(response.content.decode(), f"{url} as {user.email}")


def test_django_admin_never_shows_a_value(secret: Secret, login) -> None:
    admin = User.objects.create_superuser("root", "root@acme.test", "pw")
    client = login(admin)
    event = SecretAuditEvent.objects.filter(secret_id=secret.pk).first()
    assert event is not None
    urls = [
        reverse("admin:secrets_secret_changelist"),
        reverse("admin:secrets_secret_change", args=[secret.pk]),
        reverse("admin:secrets_secret_history", args=[secret.pk]),
        reverse("admin:secrets_secret_changelist") + "?q=payments",
        reverse("admin:secrets_secretauditevent_changelist"),
        reverse("admin:secrets_secretauditevent_change", args=[event.pk]),
        reverse("admin:secrets_secretauditevent_history", args=[event.pk]),
        reverse("admin:index"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_value(response.content.decode(), f"Django admin {url}")
    change = client.get(urls[1]).content.decode()
    assert "payments_api_key" in change
    assert SecretValue.objects.get(secret=secret, environment="staging").fingerprint in change
    # Read-only: no way to add, edit or delete a secret there.
    assert client.get(reverse("admin:secrets_secret_add")).status_code == 403
    assert client.post(reverse("admin:secrets_secret_delete", args=[secret.pk])).status_code == 403


def test_the_500_page_and_error_report_never_carry_the_value(
    workspace,
    owner: User,
    login: Callable[[User | None], Client],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_audit(**kwargs: object) -> None:
        raise RuntimeError("audit storage unavailable")

    # A crash after the value went through validation and encryption.
    monkeypatch.setattr(services, "audit_record", broken_audit)
    client = login(owner)
    client.raise_request_exception = False
    caplog.set_level(logging.DEBUG)
    response = client.post(
        reverse("secrets:secret_create"), {"name": "crashing", "value": SECRET_VALUE}
    )
    assert response.status_code == 500
    assert_no_value(response.content.decode(), "the 500 page")
    assert "Traceback" not in response.content.decode()

    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.exc_info is not None
    # What AdminEmailHandler would mail: POST data and frame locals, filtered.
    # Django's request logging attaches the request to the record (not a LogRecord attribute).
    report = ExceptionReporter(record.request, *record.exc_info)  # type: ignore[attr-defined]
    assert "RuntimeError" in report.get_traceback_text()
    assert_no_value(report.get_traceback_text(), "the error report (text)")
    assert_no_value(report.get_traceback_html(), "the error report (HTML)")
    assert_no_value(caplog.text, "the log")
    assert not Secret.objects.filter(name="crashing").exists()


def test_no_page_ever_decrypts_a_value(
    secret: Secret,
    owner: User,
    viewer: User,
    login: Callable[[User | None], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a run may decrypt: every page of the app and the Django admin works without it."""

    def refuse(self: StoreCipher, token: bytes) -> str:
        raise AssertionError("a page decrypted a secret value")

    monkeypatch.setattr(StoreCipher, "decrypt", refuse)
    root = User.objects.create_superuser("root", "root@acme.test", "pw")
    pages = [
        reverse("secrets:secret_list"),
        reverse("secrets:secret_list") + "?q=pay",
        reverse("secrets:secret_detail", args=[secret.pk]),
        reverse("secrets:secret_delete", args=[secret.pk]),
        reverse("secrets:audit_list"),
    ]
    admin_pages = [
        reverse("admin:secrets_secret_changelist"),
        reverse("admin:secrets_secret_change", args=[secret.pk]),
        reverse("admin:secrets_secret_history", args=[secret.pk]),
    ]
    for user, urls in ((owner, pages), (viewer, pages[:3]), (root, admin_pages)):
        client = login(user)
        for url in urls:
            assert client.get(url).status_code == 200, url
    # Changing or deleting values never reads the old ones either.
    client = login(owner)
    htmx = {"HX-Request": "true"}
    for url_name, data in (
        ("secrets:secret_rotate", {"value": ROTATED_VALUE}),
        ("secrets:secret_environment_set", {"environment": "staging", "value": PRODUCTION_VALUE}),
        ("secrets:secret_environment_clear", {"environment": "staging"}),
    ):
        response = client.post(reverse(url_name, args=[secret.pk]), data, headers=htmx)
        assert response.status_code == 200, url_name
    assert client.post(reverse("secrets:secret_delete", args=[secret.pk])).status_code == 302
    assert not Secret.objects.filter(pk=secret.pk).exists()
