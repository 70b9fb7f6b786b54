"""The app shell: home, navigation, htmx plumbing and the friendly error pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from reqflo.core import navigation
from reqflo.core.models import Role
from reqflo.core.navigation import NavLink, nav_links, registered_links
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


BUILT = (
    "Journeys",
    "Runs",
    "Schedules",
    "Secrets",
    "Environments",
    "Runners",
    "Members",
    "API tokens",
)


def test_shell_shows_workspace_role_and_navigation(client_as: ClientAs) -> None:
    html = client_as("owner").get(reverse("core:home")).content.decode()
    assert 'class="switcher"' in html
    assert "owner@acme.test" in html
    for label in BUILT:
        assert f">{label}</a>" in html
    assert reverse("logout") in html


def test_nothing_unbuilt_is_advertised(client_as: ClientAs) -> None:
    html = client_as("owner").get(reverse("core:home")).content.decode()
    # Every area is built; no placeholder is linked or tiled.
    assert "soon" not in html.lower()
    assert "placeholder" not in html.lower()


@pytest.fixture
def owner_only_link() -> Iterator[NavLink]:
    """A link an app above core might register: owners only, under Admin."""
    link = NavLink("Audit", "secrets:audit_list", Role.OWNER, "Who changed what.", 35, admin=True)
    navigation.register(link)
    yield link
    navigation.unregister(link.url_name)


def test_viewer_navigation_hides_owner_only_admin_pages(
    client_as: ClientAs, owner_only_link: NavLink
) -> None:
    html = client_as("viewer").get(reverse("core:home")).content.decode()
    assert ">Members</a>" in html
    assert ">Audit</a>" not in html
    assert ">Secrets</a>" in html  # names only; the secrets app keeps values to owners
    assert ">Audit</a>" in client_as("owner").get(reverse("core:home")).content.decode()


def test_each_app_registers_its_links_in_order() -> None:
    links = {link.label: link.url_name for link in registered_links()}
    assert links == {
        "Journeys": "journeys:journey_list",
        "Runs": "runs:list",
        "Schedules": "schedules:list",
        "Secrets": "secrets:secret_list",
        "Environments": "journeys:environment_list",
        "Runners": "runners:runners",
        "Members": "core:member_list",
        "API tokens": "tokens:token_list",
    }
    membership = MembershipFactory.build(role=Role.OWNER)
    assert [link.label for link in nav_links(membership)] == list(links)


def test_every_nav_link_renders(client_as: ClientAs) -> None:
    client = client_as("owner")
    for link in registered_links():
        assert client.get(reverse(link.url_name)).status_code == 200, link.label


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
