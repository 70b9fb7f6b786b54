"""Admin → Secrets pages: who may do what, and that no page ever carries a value."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Environment, Journey
from reqflo.journeys.services import build_artifact_for_version, journey_create
from reqflo.secrets import services
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent, SecretValue
from reqflo.secrets.resolution import secrets_resolve
from reqflo.secrets.selectors import secret_names_in_plan
from tests.secrets.conftest import SECRET_VALUE, STAGING_VALUE

pytestmark = pytest.mark.django_db

ROTATED_VALUE = "sk_live_Rot8ted9Value0Zq4Lm2Np"
PRODUCTION_VALUE = "prd_Vx81LmQw4Zt7Ha2Kc9Pj3Ns"
ALL_VALUES = (SECRET_VALUE, STAGING_VALUE, ROTATED_VALUE, PRODUCTION_VALUE)


def assert_no_value(text: str, where: str) -> None:
    for value in ALL_VALUES:
        assert value not in text, f"{where} shows a secret value"


# --- Access matrix ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    url_name: str
    on_secret: bool
    data: dict[str, str]


ACTIONS = [
    Action("list", "get", "secrets:secret_list", False, {}),
    Action("create page", "get", "secrets:secret_create", False, {}),
    Action("create", "post", "secrets:secret_create", False, {"name": "new", "value": "v1"}),
    Action("audit", "get", "secrets:audit_list", False, {}),
    Action("detail", "get", "secrets:secret_detail", True, {}),
    Action("rotate", "post", "secrets:secret_rotate", True, {"value": ROTATED_VALUE}),
    Action("describe", "post", "secrets:secret_describe", True, {"description": "d"}),
    Action(
        "set env",
        "post",
        "secrets:secret_environment_set",
        True,
        {"environment": "production", "value": PRODUCTION_VALUE},
    ),
    Action(
        "clear env", "post", "secrets:secret_environment_clear", True, {"environment": "staging"}
    ),
    Action("delete page", "get", "secrets:secret_delete", True, {}),
    Action("delete", "post", "secrets:secret_delete", True, {}),
]

# Expected status per persona. Pages without a secret in the URL act on the user's *current*
# workspace, so the outsider (an owner elsewhere) gets their own, empty, pages there.
EXPECTED = {
    "owner": {"list": 200, "create page": 200, "create": 302, "audit": 200, "detail": 200,
              "rotate": 302, "describe": 302, "set env": 302, "clear env": 302,
              "delete page": 200, "delete": 302},
    "editor": {"list": 200, "create page": 403, "create": 403, "audit": 403, "detail": 200,
               "rotate": 403, "describe": 403, "set env": 403, "clear env": 403,
               "delete page": 403, "delete": 403},
    "viewer": {"list": 200, "create page": 403, "create": 403, "audit": 403, "detail": 200,
               "rotate": 403, "describe": 403, "set env": 403, "clear env": 403,
               "delete page": 403, "delete": 403},
    "outsider": {"list": 200, "create page": 200, "create": 302, "audit": 200, "detail": 404,
                 "rotate": 404, "describe": 404, "set env": 404, "clear env": 404,
                 "delete page": 404, "delete": 404},
}  # fmt: skip


def url_for(action: Action, secret: Secret) -> str:
    return reverse(action.url_name, kwargs={"secret_id": secret.pk} if action.on_secret else {})


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "outsider", "anonymous"])
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_access_matrix(
    action: Action,
    persona: str,
    personas: dict[str, User | None],
    secret: Secret,
    login: Callable[[User | None], Client],
) -> None:
    client = login(personas[persona])
    before = list(SecretValue.objects.values_list("fingerprint", flat=True).order_by("id"))
    events = SecretAuditEvent.objects.count()
    response = getattr(client, action.method)(url_for(action, secret), action.data)

    if persona == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == EXPECTED[persona][action.name]
    changed = SecretAuditEvent.objects.count() != events
    if action.method == "post" and response.status_code != 302:
        # Refused: nothing changed, not even the audit log.
        assert not changed
        assert Secret.objects.filter(pk=secret.pk).exists()
        assert (
            list(SecretValue.objects.values_list("fingerprint", flat=True).order_by("id")) == before
        )
    if persona == "outsider" and response.status_code == 200:
        assert "payments_api_key" not in response.content.decode()


def test_editors_and_viewers_see_names_and_usage_but_no_controls(
    secret: Secret, viewer: User, editor: User, login: Callable[[User | None], Client]
) -> None:
    for user in (viewer, editor):
        page = login(user).get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
        assert "payments_api_key" in page
        assert "Payments sandbox key" in page
        assert "Used by journeys" in page
        assert "set · updated" in page
        for control in ("Rotate", "Set value", "Delete", 'type="password"', "Audit"):
            assert control not in page
        # Fingerprints are for owners.
        fingerprint = SecretValue.objects.get(secret=secret, environment="").fingerprint
        assert fingerprint not in page


def test_owner_sees_fingerprints_state_and_audit(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    page = login(owner).get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    fingerprint = SecretValue.objects.get(secret=secret, environment="").fingerprint
    assert fingerprint in page
    assert "set · updated" in page
    assert "by owner@acme.test" in page
    assert 'type="password"' in page
    assert 'autocomplete="off"' in page
    assert "Environment value set" in page
    assert "203.0.113.7" in page


def test_create_through_the_page_records_the_ip(
    workspace, owner: User, login: Callable[[User | None], Client]
) -> None:
    response = login(owner).post(
        reverse("secrets:secret_create"),
        {"name": "stripe.key", "description": "Stripe", "value": SECRET_VALUE},
    )
    secret = Secret.objects.get(name="stripe.key")
    assert response["Location"] == reverse("secrets:secret_detail", args=[secret.pk])
    event = SecretAuditEvent.objects.get(secret_id=secret.pk)
    assert (event.kind, str(event.ip_address)) == (AuditKind.CREATED, "203.0.113.7")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "value": SECRET_VALUE}, "Name is required."),
        ({"name": "my key", "value": SECRET_VALUE}, "Name &#x27;my key&#x27; contains a space"),
        ({"name": "payments_api_key", "value": SECRET_VALUE}, "already exists in this workspace"),
        ({"name": "PAYMENTS-API-KEY", "value": SECRET_VALUE}, "REQFLO_SECRET_PAYMENTS_API_KEY"),
        ({"name": "ok", "value": ""}, "Value is required."),
        ({"name": "ok", "value": SECRET_VALUE + "x" * 65536}, "the limit is 64 KiB"),
        ({"name": "ok", "value": SECRET_VALUE + "x" * 300_000}, "over the limit of 64 KiB"),
    ],
)
def test_bad_create_input_is_explained_and_the_value_not_echoed(
    secret: Secret,
    owner: User,
    login: Callable[[User | None], Client],
    data: dict[str, str],
    message: str,
) -> None:
    response = login(owner).post(reverse("secrets:secret_create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert_no_value(page, "the create form with errors")
    assert Secret.objects.count() == 1


def test_htmx_rotate_returns_values_and_audit_fragments(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    response = login(owner).post(
        reverse("secrets:secret_rotate", args=[secret.pk]),
        {"value": ROTATED_VALUE},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section class="card" id="secret-values"')
    assert 'id="secret-audit" aria-labelledby="audit-heading" hx-swap-oob="true"' in page
    assert "Rotated payments_api_key." in page
    assert "Value rotated" in page
    assert "<html" not in page
    assert_no_value(page, "the rotate fragment")


def test_htmx_environment_error_stays_in_the_fragment(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    response = login(owner).post(
        reverse("secrets:secret_environment_set", args=[secret.pk]),
        {"environment": "pre prod", "value": PRODUCTION_VALUE},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "This workspace has no environment named &#x27;pre prod&#x27;" in page
    assert_no_value(page, "the environment form with errors")
    assert not SecretValue.objects.filter(environment="pre prod").exists()


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
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert_no_value(page, f"{url_name} with an error")
    # Every value input is rendered empty.
    assert page.count('type="password"') == 2
    assert 'type="password" name="value" value=' not in page
    assert list(SecretValue.objects.values_list("fingerprint", flat=True).order_by("id")) == before


def publish_journey(workspace: Workspace, owner: User, name: str, url: str) -> Journey:
    document = {
        "journey": {"name": name, "steps": [{"id": "s", "request": {"method": "GET", "url": url}}]}
    }
    return journey_create(
        workspace=workspace, author=owner, checked=check_document(document), message="v1"
    )


def test_delete_confirmation_lists_referencing_journeys(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    checkout = publish_journey(
        secret.workspace, owner, "Checkout flow", "http://x/?k={{ secrets.payments_api_key }}"
    )
    publish_journey(secret.workspace, owner, "Health", "http://x/")
    client = login(owner)
    listing = client.get(reverse("secrets:secret_list")).content.decode()
    assert "<td>1 journey</td>" in listing
    detail = client.get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    editor_url = reverse("journeys:journey_editor", args=[checkout.pk])
    assert f'<a href="{editor_url}">Checkout flow</a>' in detail
    page = client.get(reverse("secrets:secret_delete", args=[secret.pk])).content.decode()
    assert "1 journey references this secret" in page
    assert f'<a href="{editor_url}">Checkout flow</a>' in page
    assert "Health" not in page
    response = client.post(reverse("secrets:secret_delete", args=[secret.pk]), follow=True)
    assert "Secret payments_api_key deleted. The Run check of 1 journey(s)" in (
        response.content.decode()
    )


def test_journey_pages_and_yaml_export_hold_the_reference_never_the_value(
    secret: Secret,
    owner: User,
    editor: User,
    viewer: User,
    login: Callable[[User | None], Client],
) -> None:
    journey = publish_journey(
        secret.workspace, owner, "Checkout", "http://x/?k={{ secrets.payments_api_key }}"
    )
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


def test_run_check_reports_a_deleted_secret_as_missing(secret: Secret, actor) -> None:
    from reqflo.engine import definition_from_data, run_check
    from reqflo.secrets.selectors import workspace_secret_names

    definition = definition_from_data(
        {
            "journey": {
                "name": "J",
                "steps": [
                    {
                        "id": "s",
                        "request": {
                            "method": "GET",
                            "url": "http://x/",
                            "headers": {"X-Api-Key": "{{ secrets.payments_api_key }}"},
                        },
                    }
                ],
            }
        }
    )
    names = workspace_secret_names(secret.workspace)
    assert [i.code for i in run_check(definition, secret_names=names)] == ["no_assertions"]
    services.secret_delete(secret=secret, actor=actor)
    issues = run_check(definition, secret_names=workspace_secret_names(secret.workspace))
    missing = [i for i in issues if i.code == "missing_secret"]
    assert len(missing) == 1
    assert "payments_api_key" in missing[0].message


def test_a_value_for_a_deleted_environment_is_flagged(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    Environment.objects.filter(name="staging").delete()
    page = login(owner).get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    assert "(no such environment any more: runs cannot use it; clear it)" in page


# --- The value never reaches a page -------------------------------------------------------------


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
        assert response.status_code == 200
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
    report = ExceptionReporter(record.request, *record.exc_info)  # type: ignore[attr-defined]
    assert "RuntimeError" in report.get_traceback_text()
    assert_no_value(report.get_traceback_text(), "the error report (text)")
    assert_no_value(report.get_traceback_html(), "the error report (HTML)")
    assert_no_value(caplog.text, "the log")
    assert not Secret.objects.filter(name="crashing").exists()
