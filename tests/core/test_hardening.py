"""Web hardening: sign-in throttling, Content-Security-Policy, no-store, the Django admin off.

Throttling runs through the real login form and django-axes' database handler.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tests.conftest import ClientAs
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


def _sign_in(email: str, password: str, address: str, **headers: str) -> int:
    response = Client(REMOTE_ADDR=address, **headers).post(
        reverse("login"), {"username": email, "password": password}
    )
    return response.status_code


def test_wrong_passwords_for_one_account_lock_that_account_from_every_address(
    owner: User, editor: User
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        # Spread over addresses and spellings of the email: it is still one account.
        email = "owner@acme.test" if attempt % 2 else " OWNER@Acme.test"
        assert _sign_in(email, "wrong", f"198.51.100.{attempt + 1}") == 200
    assert _sign_in("owner@acme.test", "wrong", "198.51.100.200") == 429  # the limit-th
    assert _sign_in("owner@acme.test", PASSWORD, "203.0.113.9") == 429
    locked = Client(REMOTE_ADDR="203.0.113.10").post(
        reverse("login"), {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert f"After {limit} wrong passwords" in locked.content.decode()
    # Another account is not affected.
    assert _sign_in("editor@acme.test", PASSWORD, "203.0.113.11") == 302


def test_wrong_passwords_from_one_address_lock_that_address_for_every_account(
    owner: User, editor: User
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(f"nobody{attempt}@acme.test", "wrong", "198.51.100.77") == 200
    assert _sign_in("nobody@acme.test", "wrong", "198.51.100.77") == 429
    assert _sign_in("editor@acme.test", PASSWORD, "198.51.100.77") == 429
    assert _sign_in("editor@acme.test", PASSWORD, "198.51.100.78") == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_address_count(
    owner: User, editor: User
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{attempt}"}
        _sign_in(f"nobody{attempt}@acme.test", "wrong", "198.51.100.90", **forged)
    assert _sign_in("editor@acme.test", PASSWORD, "198.51.100.90") == 429


def test_behind_the_proxy_the_address_it_appended_counts(
    owner: User, editor: User, settings: Settings
) -> None:
    settings.REQFLO_BEHIND_PROXY = True
    proxy = "10.0.0.2"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        chain = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{attempt}, 198.51.100.5"}
        _sign_in(f"nobody{attempt}@acme.test", "wrong", proxy, **chain)
    client_chain = {"HTTP_X_FORWARDED_FOR": "198.51.100.5"}
    assert _sign_in("editor@acme.test", PASSWORD, proxy, **client_chain) == 429
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.6"}
    assert _sign_in("editor@acme.test", PASSWORD, proxy, **other) == 302


def test_a_successful_sign_in_resets_the_accounts_count(owner: User) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        assert _sign_in("owner@acme.test", "wrong", f"198.51.100.{attempt + 1}") == 200
    assert _sign_in("owner@acme.test", PASSWORD, "203.0.113.1") == 302
    for attempt in range(limit - 1):
        assert _sign_in("owner@acme.test", "wrong", f"198.51.100.{attempt + 1}") == 200
    assert _sign_in("owner@acme.test", PASSWORD, "203.0.113.2") == 302


def test_signing_in_to_another_account_does_not_reset_an_addresss_failures(
    owner: User, editor: User, viewer: User
) -> None:
    # An attacker with an account of their own guesses another's password from one address,
    # signing in to their own account between guesses (found by a security review).
    address = "198.51.100.44"
    guesses = 0
    for _ in range(3):
        for _ in range(3):
            if guesses < settings.AXES_FAILURE_LIMIT - 1:
                assert _sign_in("viewer@acme.test", "wrong", address) == 200
                guesses += 1
        _sign_in("editor@acme.test", PASSWORD, address)
    while guesses < settings.AXES_FAILURE_LIMIT - 1:
        assert _sign_in("viewer@acme.test", "wrong", address) == 200
        guesses += 1
    assert _sign_in("viewer@acme.test", "wrong", address) == 429  # the limit-th failure
    assert _sign_in("viewer@acme.test", PASSWORD, "203.0.113.50") == 429  # the account too
    assert _sign_in("editor@acme.test", PASSWORD, address) == 429  # and the address


@pytest.mark.parametrize("persona", ["owner", "anonymous"])
def test_every_page_sends_a_content_security_policy_of_self_only(
    client_as: ClientAs, persona: str
) -> None:
    url = reverse("core:home") if persona == "owner" else reverse("login")
    policy = client_as(persona).get(url, follow=True).headers["Content-Security-Policy"]
    directives = dict(
        [*part.split(" ", 1), ""][:2] for part in (p.strip() for p in policy.split(";")) if part
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style attribute"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


def test_no_template_has_inline_script_or_style() -> None:
    templates = list(ROOT.glob("templates/**/*.html"))
    templates += list(ROOT.glob("reqflo/**/templates/**/*.html"))
    assert len(templates) > 20
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == [], "the Content-Security-Policy would block these"


@pytest.mark.parametrize(
    "url_name", ["core:home", "core:member_list", "journeys:journey_list", "password_change"]
)
def test_signed_in_pages_are_never_stored(client_as: ClientAs, url_name: str) -> None:
    response = client_as("owner").get(reverse(url_name))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


def test_static_files_stay_cacheable(client_as: ClientAs) -> None:
    response = client_as("owner").get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_django_admin_is_off_unless_the_setting_turns_it_on(
    admin_user: User, settings: Settings
) -> None:
    client = Client()
    client.force_login(admin_user)
    settings.REQFLO_DJANGO_ADMIN = False
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/login/").status_code == 404
    settings.REQFLO_DJANGO_ADMIN = True
    assert client.get("/django-admin/").status_code == 200


def test_production_settings_keep_the_django_admin_off() -> None:
    source = (ROOT / "reqflo" / "settings.py").read_text()
    assert 'REQFLO_DJANGO_ADMIN = env_bool("REQFLO_DJANGO_ADMIN", default=False)' in source


def test_a_mistyped_password_is_not_kept_by_the_throttle(owner: User) -> None:
    typo = "correct-horse-battery-stapel-9Xq"
    assert _sign_in("owner@acme.test", typo, "198.51.100.3") == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'axes_%'")
        tables = [row[0] for row in cursor.fetchall()]
        assert tables
        rows = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')
            rows += [row[0] for row in cursor.fetchall()]
    dump = "\n".join(rows)
    assert "owner@acme.test" in dump  # the attempt is recorded…
    assert typo not in dump  # …without the password
