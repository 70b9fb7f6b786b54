"""A value that no longer decrypts (damaged row, foreign key) is named on every page that shows it.

Pages check the ciphertext's seal (HMAC) without decrypting, so they can say which secret to
rotate while the plaintext never exists in the web process.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from reqflo.secrets import services
from reqflo.secrets.crypto import StoreCipher, current_cipher
from reqflo.secrets.models import Secret
from reqflo.secrets.resolution import SecretResolutionError, secrets_resolve
from tests.secrets.conftest import SECRET_VALUE

pytestmark = pytest.mark.django_db

ROTATED = "sk_live_Rep4ired0Value9Xq2Lm7"
OTHER_KEY = "another-store-key-that-is-long-enough-0123456789"


def damage(secret: Secret, environment: str, raw: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE secrets_secretvalue SET value = %s WHERE secret_id = %s AND environment = %s",
            [raw, secret.pk, environment],
        )


def test_the_seal_check_tells_intact_from_damaged_without_decrypting() -> None:
    cipher = current_cipher()
    token = cipher.encrypt(SECRET_VALUE)
    assert cipher.is_intact(token)
    flipped = token[:20] + bytes([token[20] ^ 1]) + token[21:]
    assert not cipher.is_intact(flipped)
    assert not cipher.is_intact(b"")
    assert not cipher.is_intact(b"\x80short")
    assert not StoreCipher(OTHER_KEY).is_intact(token)


@pytest.mark.parametrize(
    "raw",
    [b"broken", StoreCipher(OTHER_KEY).encrypt(SECRET_VALUE)],
    ids=["corrupted", "other-key"],
)
@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_detail_and_list_name_the_unreadable_value_and_say_to_rotate_it(
    secret: Secret,
    personas: dict[str, User | None],
    login: Callable[[User | None], Client],
    persona: str,
    raw: bytes,
) -> None:
    damage(secret, "staging", raw)
    client = login(personas[persona])

    detail = client.get(reverse("secrets:secret_detail", args=[secret.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert page.count('data-unreadable="staging"') == 1
    assert 'data-unreadable="default"' not in page
    assert (
        "Secret <code>payments_api_key</code>: the value for environment <code>staging</code> "
        "cannot be decrypted with the store key"
    ) in page
    if persona == "owner":
        assert "Runs that need it refuse to start until it is rotated: set it again below." in page
    else:
        assert "ask an owner to rotate it." in page
    assert "unreadable — rotate it" in page

    listing = client.get(reverse("secrets:secret_list"))
    assert listing.status_code == 200
    assert "staging unreadable — rotate it" in listing.content.decode()


def test_setting_the_value_again_clears_the_warning_and_runs_resolve(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    damage(secret, "", b"\x80garbage-not-a-token")
    client = login(owner)
    page = client.get(reverse("secrets:secret_detail", args=[secret.pk])).content.decode()
    assert "the default value cannot be decrypted" in page
    assert "rotate it below." in page
    with pytest.raises(SecretResolutionError, match="Secret payments_api_key cannot be decrypted"):
        secrets_resolve(
            workspace=secret.workspace, names=[secret.name], environment="", run_id="r1"
        )

    fragment = client.post(
        reverse("secrets:secret_rotate", args=[secret.pk]),
        {"value": ROTATED},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "cannot be decrypted" not in fragment
    assert "unreadable" not in fragment
    assert ROTATED not in fragment
    resolved = secrets_resolve(
        workspace=secret.workspace, names=[secret.name], environment="", run_id="r2"
    )
    assert resolved.values == {"payments_api_key": ROTATED}


def test_every_page_around_a_damaged_secret_still_answers(
    secret: Secret, owner: User, actor: services.Actor, login: Callable[[User | None], Client]
) -> None:
    damage(secret, "", b"broken")
    damage(secret, "staging", b"broken")
    client = login(owner)
    for url in (
        reverse("secrets:secret_list"),
        reverse("secrets:secret_detail", args=[secret.pk]),
        reverse("secrets:secret_delete", args=[secret.pk]),
        reverse("secrets:audit_list"),
        reverse("admin:index"),
    ):
        assert client.get(url).status_code in (200, 302), url
    cleared = client.post(
        reverse("secrets:secret_environment_clear", args=[secret.pk]), {"environment": "staging"}
    )
    assert cleared.status_code == 302
    deleted = client.post(reverse("secrets:secret_delete", args=[secret.pk]))
    assert deleted.status_code == 302
    assert not Secret.objects.filter(pk=secret.pk).exists()


def test_pages_still_answer_when_the_store_key_is_unusable(
    secret: Secret, owner: User, login: Callable[[User | None], Client]
) -> None:
    client = login(owner)
    with override_settings(REQFLO_SECRETS_KEY="short"):
        for url in (
            reverse("secrets:secret_list"),
            reverse("secrets:secret_detail", args=[secret.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200
            assert "payments_api_key" in response.content.decode()


def test_the_django_admin_shows_a_damaged_secret_without_decrypting(
    secret: Secret, login: Callable[[User | None], Client]
) -> None:
    damage(secret, "staging", b"broken")
    admin = User.objects.create_superuser("root", "root@acme.test", "pw")
    client = login(admin)
    assert client.get(reverse("admin:secrets_secret_changelist")).status_code == 200
    change = client.get(reverse("admin:secrets_secret_change", args=[secret.pk]))
    assert change.status_code == 200
    page = change.content.decode()
    assert page.count("unreadable: cannot be decrypted with the store key; rotate it") == 1
    assert page.count("<p>set</p>") == 1  # the default value is fine
