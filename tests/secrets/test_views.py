"""Admin → Secrets pages: who may do what, what each role sees, and form errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reqflo.journeys.models import Environment
from reqflo.secrets.models import AuditKind, Secret, SecretAuditEvent, SecretValue
from tests.secrets.conftest import PRODUCTION_VALUE, ROTATED_VALUE, SECRET_VALUE, assert_no_value

pytestmark = pytest.mark.django_db

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
    Action("create", "post", "secrets:secret_create", False, {"name": "new", "value": "v1-value"}),
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
    assert response.status_code == 400
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


def test_a_value_for_a_deleted_environment_is_flagged(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    Environment.objects.filter(name="staging").delete()
    page = login(owner).get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    assert "(no such environment any more: runs cannot use it; clear it)" in page
