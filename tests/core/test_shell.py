"""The app shell: home, navigation, placeholders, htmx plumbing and the friendly error pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reqflo.core.models import Role
from reqflo.core.navigation import NAV_LINKS, PLACEHOLDERS, NavLink, first_url, nav_links
from tests.conftest import ClientAs
from tests.factories import MembershipFactory


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 200), ("anonymous", 302)],
)
def test_home_access(client_as: ClientAs, persona: str, status: int) -> None:
    response = client_as(persona).get(reverse("core:home"))
    assert response.status_code == status
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    elif persona == "outsider":
        # The outsider sees their own workspace, never Acme.
        assert b"Globex" in response.content
        assert b"Acme" not in response.content
    else:
        assert b"Acme" in response.content


def test_shell_shows_workspace_role_and_navigation(client_as: ClientAs) -> None:
    html = client_as("owner").get(reverse("core:home")).content.decode()
    assert 'class="switcher"' in html
    assert "owner@acme.test" in html
    labels = ("Journeys", "Runs", "Runners", "Secrets", "Environments", "Members", "API tokens")
    for label in labels:
        assert f">{label}</a>" in html
    assert reverse("logout") in html


def test_viewer_navigation_hides_owner_only_admin_pages(client_as: ClientAs) -> None:
    html = client_as("viewer").get(reverse("core:home")).content.decode()
    assert ">Members</a>" in html
    assert ">Runners</a>" not in html
    assert ">Secrets</a>" in html  # names only; the secrets app keeps values to owners


def test_every_nav_link_resolves(client_as: ClientAs) -> None:
    for link in NAV_LINKS:
        assert first_url(link.url_names) is not None, link.label


def test_every_core_page_in_the_nav_renders(client_as: ClientAs) -> None:
    # Pages of other apps are tested by those apps; here only the ones core serves.
    client = client_as("owner")
    for link in NAV_LINKS:
        core_names = [name for name in link.url_names if name.startswith("core:")]
        url = first_url(tuple(core_names))
        assert url is not None, link.label
        assert client.get(url).status_code == 200, link.label


def test_nav_link_prefers_the_first_url_name_that_resolves() -> None:
    membership = MembershipFactory.build(role=Role.OWNER)
    real = NavLink("Members", ("nope:missing", "core:member_list"), Role.VIEWER, "Who.")
    assert first_url(real.url_names) == reverse("core:member_list")
    assert first_url(("nope:missing", "also:missing")) is None
    labels = [link.label for link in nav_links(membership)]
    assert labels[:2] == ["Journeys", "Runs"]


placeholder_matrix = [
    (area, persona, 200 if _ok else 403)
    for area, page in PLACEHOLDERS.items()
    for persona, _ok in (
        ("owner", True),
        ("editor", page.min_role != Role.OWNER),
        ("viewer", page.min_role == Role.VIEWER),
    )
]


@pytest.mark.parametrize(("area", "persona", "status"), placeholder_matrix)
def test_placeholder_access_for_members(
    client_as: ClientAs, area: str, persona: str, status: int
) -> None:
    response = client_as(persona).get(reverse(f"core:placeholder_{area}"))
    assert response.status_code == status
    if status == 403:
        assert b"You need the owner role" in response.content


@pytest.mark.parametrize("area", list(PLACEHOLDERS))
def test_placeholder_for_outsider_shows_their_own_workspace(client_as: ClientAs, area: str) -> None:
    response = client_as("outsider").get(reverse(f"core:placeholder_{area}"))
    assert response.status_code == 200
    assert b"arrives with" in response.content
    assert b"Acme" not in response.content


@pytest.mark.parametrize("area", list(PLACEHOLDERS))
def test_placeholder_sends_anonymous_to_login(client_as: ClientAs, area: str) -> None:
    response = client_as("anonymous").get(reverse(f"core:placeholder_{area}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_response_varies_on_hx_request(client_as: ClientAs) -> None:
    response = client_as("owner").get(reverse("core:home"))
    assert "HX-Request" in response["Vary"]


def test_base_template_wires_htmx_and_csrf_header_once(client_as: ClientAs) -> None:
    html = client_as("owner").get(reverse("core:home")).content.decode()
    assert html.count("vendor/htmx/htmx.min.js") == 1
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "cdn" not in html.lower()


def test_vendored_htmx_is_served(client: Client) -> None:
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200


def test_unknown_page_is_friendly_404(client_as: ClientAs) -> None:
    response = client_as("owner").get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Traceback" not in response.content


def test_htmx_request_after_the_session_ended_reloads_the_login_page(
    client_as: ClientAs,
) -> None:
    members = reverse("core:member_list")
    response = client_as("anonymous").post(
        reverse("core:member_add"),
        {"email": "x@example.test", "role": "viewer"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{members}",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=%2Fmembers%2F"
    assert "HX-Request" in response["Vary"]
