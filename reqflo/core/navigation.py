"""The app shell's navigation: links each app registers for itself in its ``AppConfig.ready``.

Core knows nothing of the apps built on it. An app that has a page to offer registers a
``NavLink`` (``navigation.register(NavLink(...))``); the sidebar and the home page list what is
registered, in ``position`` order, to the members whose role allows it. What is not built has
no link: there are no placeholder pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from reqflo.core.models import Membership, Role


@dataclass(frozen=True)
class NavLink:
    """A navigation entry; ``hint`` is the sentence the home page shows under the label.

    ``position`` orders the links (main areas first, then the Admin section); ``admin`` puts
    the link under "Admin" in the sidebar.
    """

    label: str
    url_name: str
    min_role: Role
    hint: str
    position: int
    admin: bool = False


@dataclass(frozen=True)
class ResolvedLink:
    label: str
    url: str
    hint: str
    admin: bool


_registry: dict[str, NavLink] = {}


def register(link: NavLink) -> None:
    """Add ``link`` to the navigation (again registering the same URL name replaces it)."""
    _registry[link.url_name] = link


def unregister(url_name: str) -> None:
    """Remove the link to ``url_name``, if there is one (for tests)."""
    _registry.pop(url_name, None)


def registered_links() -> list[NavLink]:
    """Return every registered link in navigation order."""
    return sorted(_registry.values(), key=lambda link: (link.position, link.label))


def nav_links(membership: Membership | None) -> list[ResolvedLink]:
    """Return the links ``membership`` may follow, with their URLs."""
    if membership is None:
        return []
    return [
        ResolvedLink(link.label, reverse(link.url_name), link.hint, link.admin)
        for link in registered_links()
        if membership.has_role(link.min_role)
    ]
