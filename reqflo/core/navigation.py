"""The app shell's navigation, and the placeholder pages for areas later apps fill.

Each link lists URL names in order of preference: the real page first, then the core
placeholder. When an app registers its URL (say ``journeys:journey_list``), the link moves to
it with no template change; when nothing resolves, the link is hidden instead of breaking.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from reqflo.core.models import Membership, Role


@dataclass(frozen=True)
class Placeholder:
    """An area that arrives with a later part of Reqflo, shown as an empty state until then."""

    area: str
    title: str
    arrives_with: str
    min_role: Role


@dataclass(frozen=True)
class NavLink:
    """A navigation entry; ``hint`` is the sentence the start page shows under the label."""

    label: str
    url_names: tuple[str, ...]
    min_role: Role
    hint: str
    admin: bool = False


@dataclass(frozen=True)
class ResolvedLink:
    label: str
    url: str
    hint: str
    admin: bool


PLACEHOLDERS: dict[str, Placeholder] = {
    p.area: p
    for p in (
        Placeholder("journeys", "Journeys", "the journey editor", Role.VIEWER),
        Placeholder("runs", "Runs", "run history", Role.VIEWER),
        Placeholder("runners", "Runners", "the Cloud Runner and self-hosted runners", Role.OWNER),
        Placeholder("secrets", "Secrets", "the encrypted secret store", Role.VIEWER),
        Placeholder("environments", "Environments", "environments", Role.VIEWER),
        Placeholder("api-tokens", "API tokens", "API tokens for the CLI and CI", Role.VIEWER),
    )
}

NAV_LINKS: tuple[NavLink, ...] = (
    NavLink(
        "Journeys",
        ("journeys:journey_list", "core:placeholder_journeys"),
        Role.VIEWER,
        "Build, version and run multi-step API tests.",
    ),
    NavLink(
        "Runs",
        ("runs:run_list", "core:placeholder_runs"),
        Role.VIEWER,
        "Run history with the evidence of every step.",
    ),
    NavLink(
        "Runners",
        ("runners:runner_list", "core:placeholder_runners"),
        Role.OWNER,
        "The Cloud Runner and your self-hosted runners.",
        admin=True,
    ),
    # Everyone sees secret *names* (journeys reference them); only owners change values.
    NavLink(
        "Secrets",
        ("secrets:secret_list", "core:placeholder_secrets"),
        Role.VIEWER,
        "Encrypted credentials that journeys use by name.",
        admin=True,
    ),
    NavLink(
        "Environments",
        ("journeys:environment_list", "core:placeholder_environments"),
        Role.VIEWER,
        "Base URLs and settings of each target: sandbox, staging, production.",
        admin=True,
    ),
    NavLink(
        "Members",
        ("core:member_list",),
        Role.VIEWER,
        "Who works in this workspace, and with which role.",
        admin=True,
    ),
    NavLink(
        "API tokens",
        ("api:token_list", "core:placeholder_api-tokens"),
        Role.VIEWER,
        "Tokens for the reqflo command and CI pipelines.",
        admin=True,
    ),
)


def first_url(url_names: tuple[str, ...]) -> str | None:
    """Return the URL of the first name that resolves, or ``None`` if none does."""
    for name in url_names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def nav_links(membership: Membership | None) -> list[ResolvedLink]:
    """Return the links ``membership`` may follow, each pointing at the best page available."""
    if membership is None:
        return []
    links = []
    for link in NAV_LINKS:
        if not membership.has_role(link.min_role):
            continue
        url = first_url(link.url_names)
        if url is not None:
            links.append(ResolvedLink(link.label, url, link.hint, link.admin))
    return links
