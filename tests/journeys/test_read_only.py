"""Viewers read every journeys page and are offered nothing that changes anything.

Each page's ``<main>`` is parsed: a viewer's copy may hold GET forms (search, compare) and
disabled fields, but no POST form, no htmx write, no enabled field outside a GET form and no
button outside a GET form. The same check run for an editor finds the controls, so it can fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reqflo.core.models import Workspace
from reqflo.journeys import services
from reqflo.journeys.documents import check_document
from reqflo.journeys.models import Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney

FIELDS = {"input", "select", "textarea"}
WRITES = ("hx-post", "hx-put", "hx-patch", "hx-delete")


@dataclass
class Controls(HTMLParser):
    """Collect, inside ``<main>``, everything a user could use to change data."""

    found: list[str] = field(default_factory=list)
    _main_depth: int = 0
    _get_form_depth: int = 0
    _disabled_depth: int = 0
    _stack: list[tuple[str, bool, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "main":
            self._main_depth += 1
        if not self._main_depth or tag in ("input", "br", "img", "link", "meta", "hr"):
            self._check(tag, values)
            return
        get_form = tag == "form" and (values.get("method") or "get").lower() == "get"
        disabled_set = tag == "fieldset" and "disabled" in values
        self._stack.append((tag, get_form, disabled_set))
        self._get_form_depth += get_form
        self._disabled_depth += disabled_set
        self._check(tag, values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._main_depth -= 1
        while self._stack:
            name, get_form, disabled_set = self._stack.pop()
            self._get_form_depth -= get_form
            self._disabled_depth -= disabled_set
            if name == tag:
                break

    def _check(self, tag: str, values: dict[str, str | None]) -> None:
        if not self._main_depth:
            return
        if tag == "form" and (values.get("method") or "get").lower() != "get":
            self.found.append(f"POST form {values.get('action')}")
        self.found.extend(f"{attr} on <{tag}>" for attr in WRITES if attr in values)
        if self._get_form_depth:
            return
        hidden = tag == "input" and values.get("type") == "hidden"
        disabled = "disabled" in values or self._disabled_depth
        if tag in FIELDS and not hidden and not disabled:
            self.found.append(f"enabled <{tag} name={values.get('name')}>")
        if tag == "button":
            self.found.append(f"button {values.get('value') or values.get('name') or ''}")


def controls(html: str) -> list[str]:
    parser = Controls()
    parser.feed(html)
    return parser.found


@pytest.fixture
def journey(make_journey: MakeJourney, owner: User, workspace: Workspace) -> Journey:
    journey = make_journey(inputs=[{"name": "email", "default": "a@example.test"}])
    services.journey_version_create(
        journey=journey,
        author=owner,
        checked=check_document(samples.edited(journey.head.document, description="second")),
        base_number=1,
    )
    journey.refresh_from_db()
    services.case_create(journey=journey, name="Happy path", values={"email": "b@example.test"})
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://staging.example.test", values={}
    )
    return journey


PAGES: dict[str, Callable[[Journey], str]] = {
    "list": lambda j: reverse("journeys:journey_list"),
    "archived list": lambda j: reverse("journeys:journey_list") + "?archived=1",
    "editor": lambda j: reverse("journeys:journey_editor", args=[j.pk]),
    "editor yaml": lambda j: reverse("journeys:journey_editor", args=[j.pk]) + "?view=yaml",
    "history": lambda j: reverse("journeys:journey_history", args=[j.pk]),
    "old version": lambda j: reverse("journeys:version_detail", args=[j.pk, 1]),
    "latest version": lambda j: reverse("journeys:version_detail", args=[j.pk, 2]),
    "diff": lambda j: reverse("journeys:version_diff", args=[j.pk]) + "?from=1&to=2",
    "cases": lambda j: reverse("journeys:case_list", args=[j.pk]),
    "environments": lambda j: reverse("journeys:environment_list"),
}


@pytest.mark.parametrize("page", PAGES, ids=list(PAGES))
def test_viewer_pages_render_no_edit_controls(
    client_as: ClientAs, journey: Journey, page: str
) -> None:
    response = client_as("viewer").get(PAGES[page](journey))
    assert response.status_code == 200
    assert controls(response.content.decode()) == []


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("editor", "POST form"),
        ("editor yaml", "POST form"),
        ("history", "POST form"),
        ("old version", "POST form"),
        ("cases", "POST form"),
    ],
)
def test_editors_get_the_controls_the_check_looks_for(
    client_as: ClientAs, journey: Journey, page: str, expected: str
) -> None:
    found = controls(client_as("editor").get(PAGES[page](journey)).content.decode())
    assert any(item.startswith(expected) for item in found)
    assert any(item.startswith(("enabled", "button")) for item in found)


def test_owners_get_environment_controls(client_as: ClientAs, journey: Journey) -> None:
    found = controls(client_as("owner").get(PAGES["environments"](journey)).content.decode())
    assert any("environment" in item for item in found if item.startswith("POST form"))


def test_viewers_get_no_links_to_pages_they_cannot_use(
    client_as: ClientAs, journey: Journey
) -> None:
    client = client_as("viewer")
    journeys_html = client.get(PAGES["list"](journey)).content.decode()
    assert reverse("journeys:journey_create") not in journeys_html
    environments_html = client.get(PAGES["environments"](journey)).content.decode()
    assert "Edit</a>" not in environments_html
    assert "Only owners change them." in environments_html
